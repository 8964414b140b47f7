// Card-face items (照合番号B inputs) and password formats, checked in the browser only.
// The values never leave the page except to the local bridge (architecture.md, trust model).
// Era boundaries: docs/mynacard-protocol.md §6.2 (the era year is two digits).

export const ERAS = [
  { name: "令和", letter: "R", start: [2019, 5, 1] },
  { name: "平成", letter: "H", start: [1989, 1, 8] },
  { name: "昭和", letter: "S", start: [1926, 12, 25] },
  { name: "大正", letter: "T", start: [1912, 7, 30] },
  { name: "明治", letter: "M", start: [1868, 1, 25] },
];

const key = (y, m, d) => y * 10000 + m * 100 + d;

export function isRealDate(y, m, d) {
  if (!(y >= 1868 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 && d <= 31)) return false;
  const probe = new Date(Date.UTC(y, m - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d;
}

export function toWareki(y, m, d) {
  for (const era of ERAS) {
    if (key(y, m, d) >= key(...era.start)) {
      return { era: era.name, year: y - era.start[0] + 1, month: m, day: d };
    }
  }
  return null;
}

function eraByToken(token) {
  const t = token.toUpperCase();
  return ERAS.find((era) => era.name === token || era.letter === t || era.name[0] === token) || null;
}

function normalise(text) {
  return (text || "")
    .normalize("NFKC")
    .replace(/\s+/g, "")
    .replace(/(生|まで有効|有効)$/u, "")
    .replace(/元年/u, "1年");
}

// Accepts 西暦 (1985/07/23, 1985-7-23, 1985.7.23, 19850723, 1985年7月23日) and
// 和暦 (昭和60年7月23日, S60.7.23, S600723, 昭60/7/23). Returns {y, m, d} or {error}.
export function parseDate(text) {
  const s = normalise(text);
  if (!s) return { error: "required" };
  let match = s.match(/^(\d{4})[/.\-年](\d{1,2})[/.\-月](\d{1,2})日?$/u) || s.match(/^(\d{4})(\d{2})(\d{2})$/);
  if (match) {
    const [y, m, d] = match.slice(1).map(Number);
    return isRealDate(y, m, d) ? { y, m, d, input: "seireki" } : { error: "not_a_date" };
  }
  match = s.match(/^(令和|平成|昭和|大正|明治|令|平|昭|大|明|[RHSTMrhstm])(\d{1,2})[/.\-年](\d{1,2})[/.\-月](\d{1,2})日?$/u)
    || s.match(/^(令和|平成|昭和|大正|明治|令|平|昭|大|明|[RHSTMrhstm])(\d{2})(\d{2})(\d{2})$/u);
  if (match) {
    const era = eraByToken(match[1]);
    const [ey, m, d] = match.slice(2).map(Number);
    if (!era || ey < 1) return { error: "not_a_date" };
    const y = era.start[0] + ey - 1;
    if (!isRealDate(y, m, d)) return { error: "not_a_date" };
    const back = toWareki(y, m, d);
    if (!back || back.era !== era.name) return { error: "era_range" };
    return { y, m, d, input: "wareki" };
  }
  return { error: "format" };
}

export function iso({ y, m, d }) {
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

// "西暦 1985年7月23日 / 和暦 昭和60年7月23日" from translated templates.
export function bothForms(date, strings) {
  const w = toWareki(date.y, date.m, date.d);
  const seireki = strings.seireki.replace("%Y", date.y).replace("%M", date.m).replace("%D", date.d);
  if (!w) return seireki;
  const wareki = strings.wareki
    .replace("%E", w.era).replace("%Y", w.year === 1 ? strings.gannen : String(w.year))
    .replace("%M", w.month).replace("%D", w.day);
  return `${seireki} / ${wareki}`;
}

function todayParts(now) {
  // The card's dates are Japan dates.
  const jst = new Date(now.getTime() + 9 * 3600 * 1000);
  return { y: jst.getUTCFullYear(), m: jst.getUTCMonth() + 1, d: jst.getUTCDate() };
}

// Returns {values: {birth_date, expiry_date, security_code} (ISO strings), errors: {field: code}}.
export function validateCardFace(raw, now = new Date()) {
  const errors = {};
  const today = todayParts(now);
  const todayKey = key(today.y, today.m, today.d);
  const birth = parseDate(raw.birth_date);
  if (birth.error) errors.birth_date = birth.error;
  else if (key(birth.y, birth.m, birth.d) > todayKey) errors.birth_date = "birth_future";
  const expiry = parseDate(raw.expiry_date);
  if (expiry.error) errors.expiry_date = expiry.error;
  else if (key(expiry.y, expiry.m, expiry.d) < todayKey) errors.expiry_date = "card_expired";
  else if (expiry.y > today.y + 11) errors.expiry_date = "expiry_too_far";
  else if (!birth.error && key(expiry.y, expiry.m, expiry.d) <= key(birth.y, birth.m, birth.d)) {
    errors.expiry_date = "expiry_before_birth";
  }
  const code = (raw.security_code || "").normalize("NFKC").replace(/\s+/g, "");
  if (!code) errors.security_code = "required";
  else if (!/^[0-9]{4}$/.test(code)) errors.security_code = "code_format";
  const values = Object.keys(errors).length ? null : {
    birth_date: iso(birth), expiry_date: iso(expiry), security_code: code,
  };
  return { values, errors, birth, expiry };
}

// Password formats (architecture.md table): the 4-digit 利用者証明用 PIN, or the 署名用 password
// of 6–16 A–Z/0–9 with at least one letter and one digit.
export function checkPassword(kind, value) {
  const v = (value || "").normalize("NFKC");
  if (!v) return { error: "required" };
  if (kind === "auth") {
    return /^[0-9]{4}$/.test(v) ? { value: v } : { error: "auth_format" };
  }
  const upper = v.toUpperCase();
  if (!/^[A-Z0-9]{6,16}$/.test(upper) || !/[A-Z]/.test(upper) || !/[0-9]/.test(upper)) {
    return { error: "sign_format" };
  }
  return { value: upper };
}
