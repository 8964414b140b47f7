// The card helper downloads (templates/reset/_helper_downloads.html): show the section for the
// resident's computer, detected from the browser, with a choice to pick another. Without
// JavaScript every section stays visible.

export function detectSystem(nav = navigator) {
  const platform = (nav.userAgentData && nav.userAgentData.platform) || nav.platform || "";
  const text = `${platform} ${nav.userAgent || ""}`;
  if (/Win/i.test(text)) return "windows";
  if (/Mac|iPhone|iPad/i.test(text)) return "macos";
  if (/Linux|X11|CrOS/i.test(text)) return "linux";
  return "windows"; // the most common desktop; the resident can choose another
}

export function showSystem(box, system) {
  for (const section of box.querySelectorAll(".helper-os")) section.hidden = section.dataset.os !== system;
  for (const radio of box.querySelectorAll('input[name="helper-os"]')) radio.checked = radio.value === system;
}

for (const box of document.querySelectorAll("[data-helper-downloads]")) {
  showSystem(box, detectSystem());
  box.addEventListener("change", (event) => {
    if (event.target.name === "helper-os") showSystem(box, event.target.value);
  });
}
