// The goldens' redactor: values that change from run to run or machine to machine (temp paths, the
// checkout's location) become stable placeholders, so a golden compares byte for byte.
export interface Redaction {
  value: string;
  placeholder: string;
}

export function redact(text: string, redactions: readonly Redaction[]): string {
  let out = text;
  // Longest first: a temp home inside the checkout must not be half-replaced by the checkout's path.
  for (const r of [...redactions].sort((a, b) => b.value.length - a.value.length)) {
    if (r.value) out = out.split(r.value).join(r.placeholder);
  }
  return out;
}
