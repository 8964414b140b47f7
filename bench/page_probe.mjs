// The page's own card measure for bench/cardface_bench.py: static/reset/cardface.js's live
// probe (probeMeasures, sentWidth) on grey probe images the bench makes as the page does, one
// JSON request per line on stdin, one JSON answer per line on stdout.
//   node bench/page_probe.mjs static/reset/cardface.js
//   {"constants": true}   -> the page's {probeWidth, minCardPx}
//   {"crop": [640, 480]}  -> the guide's crop in camera pixels {x, y, w, h}
//   {"probe": [w, h, vw, vh, "<base64 grey>"]}  -> the card's width in a live burst's frames
//                            as the server gets them (0: no card found)
import { createInterface } from "node:readline";

const page = await import(new URL(process.argv[2], `file://${process.cwd()}/`).href);
for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line);
  let answer;
  if (request.constants) {
    answer = { probeWidth: page.PROBE_WIDTH, minCardPx: page.MIN_CARD_PX };
  } else if (request.crop) {
    answer = page.cropRect(...request.crop);
  } else {
    const [w, h, vw, vh, b64] = request.probe;
    const crop = page.cropRect(vw, vh);
    const { box } = page.probeMeasures(Uint8Array.from(Buffer.from(b64, "base64")), w, h, null);
    answer = box ? page.sentWidth(box.w * (crop.w / w), crop, page.BURST_MAX_WIDTH) : 0;
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
