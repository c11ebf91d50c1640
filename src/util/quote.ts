// How every message shows what the user gave (an option value, a path, a table cell, a config
// value): in single quotes, cut to a readable length, with control characters and the invisible or
// direction-changing ones escaped. A right-to-left override printed raw makes an echoed value look
// valid; a 100 KB value makes a 200 KB error line; a binary file puts NUL bytes on the terminal.

/** How many characters of a value a message shows before cutting it. */
export const QUOTE_MAX_CHARS = 80;

/**
 * Characters never printed raw: C0 and C1 controls, DEL, and the invisible, joining and bidi
 * controls (soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width and direction
 * marks, embeddings and overrides, word joiner and invisible operators, isolates, BOM), lone
 * surrogates, the line and paragraph separators, and the U+FFF9-U+FFFB annotation characters.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };

/** `text` with every unsafe character written as an escape (\n, \t, \x07, \u202E). */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const named = NAMED[ch];
    if (named) return named;
    const code = ch.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`
      : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  });
}

/**
 * A user-given value as messages show it: `'value'`, escaped, and cut after `max` characters
 * (whole code points) with a note of how much was left out.
 */
export function quote(value: string, max = QUOTE_MAX_CHARS): string {
  const chars = Array.from(value);
  if (chars.length <= max) return `'${escapeUnsafe(value)}'`;
  const shown = escapeUnsafe(chars.slice(0, max).join(''));
  return `'${shown}'... (${chars.length - max} more characters)`;
}

/** Several values, each quoted, comma-separated, at most `maxItems` of them. */
export function quoteList(values: readonly string[], maxItems = 12): string {
  const shown = values.slice(0, maxItems).map((value) => quote(value, 40));
  const more = values.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

/** Lines a message may have, and characters a line may have, wherever it is printed. */
const MESSAGE_MAX_LINES = 8;
const MESSAGE_LINE_MAX_CHARS = 600;

/**
 * The last line of defence for text printed as an error (a message built by a library, or one
 * that quotes a value without `quote`): unsafe characters escaped except line breaks, each line cut
 * to 600 characters and the whole to 8 lines.
 */
export function boundedMessage(message: string): string {
  const lines = message.split('\n').map((line) => {
    const chars = Array.from(line);
    const kept = chars.length > MESSAGE_LINE_MAX_CHARS ? chars.slice(0, MESSAGE_LINE_MAX_CHARS) : chars;
    const cut = chars.length - kept.length;
    return escapeUnsafe(kept.join('')) + (cut > 0 ? `... (${cut} more characters)` : '');
  });
  if (lines.length <= MESSAGE_MAX_LINES) return lines.join('\n');
  return [...lines.slice(0, MESSAGE_MAX_LINES), `... (${lines.length - MESSAGE_MAX_LINES} more lines)`].join(
    '\n',
  );
}

/** A user-given path: quoted and escaped like any value, but cut only when unreasonably long. */
export function quotePath(value: string): string {
  return quote(value, 240);
}
