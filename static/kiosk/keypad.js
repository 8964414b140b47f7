// The on-screen keypad and the new-password rules shared by the kiosk (kiosk.js) and the
// counter terminal (counter.js). The rules are the server's (kiosk/password_rules.py), checked
// here too so nothing weak is ever sent.
export const DIGITS = "1234567890".split("");
export const ALNUM = [...DIGITS, ..."ABCDEFGHIJKLMNOPQRSTUVWXYZ".split("")];
export const SIGN_RULE = /^(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*[0-9])[A-Z0-9]{6,16}$/;
export const FOUR_DIGIT_RULE = /^[0-9]{4}$/;

// Fills `pad` with one button per key, then "delete one" and "clear" (labels from the page).
export function buildKeypad(pad, keys, { back, clear }) {
  pad.replaceChildren();
  pad.classList.toggle("numeric", keys.length <= 10);
  for (const key of keys) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = key;
    button.dataset.key = key;
    pad.append(button);
  }
  for (const [label, action] of [[back, "back"], [clear, "clear"]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "control";
    button.textContent = label;
    button.dataset.action = action;
    pad.append(button);
  }
}

// "repeated" (1111), "sequence" (1234, 9876) or "" for a 4-digit value.
export function weakFourDigits(value) {
  if (new Set(value).size === 1) return "repeated";
  const steps = new Set([...value].slice(1).map((c, i) => Number(c) - Number(value[i])));
  if (steps.size === 1 && (steps.has(1) || steps.has(-1))) return "sequence";
  return "";
}
