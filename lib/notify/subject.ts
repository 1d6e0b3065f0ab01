/**
 * SNS accepts subjects of UTF-8 text without line breaks or control
 * characters and shorter than 100 characters. Length is counted here in
 * UTF-16 code units, the stricter reading, so 99 is the most allowed.
 */
export const MAX_SUBJECT_LENGTH = 99;

const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });

/**
 * Makes a subject safe for SNS: control characters and line breaks become
 * spaces, runs of spaces collapse, and a long subject is cut on a grapheme
 * boundary with an ellipsis, so no character is ever split.
 */
export function cleanSubject(
  text: string,
  maxLength = MAX_SUBJECT_LENGTH,
): string {
  const flat = text
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (flat.length <= maxLength) return flat;
  let cut = '';
  for (const { segment } of segmenter.segment(flat)) {
    if (cut.length + segment.length > maxLength - 1) break;
    cut += segment;
  }

  return `${cut.trimEnd()}…`;
}
