/**
 * Control characters, defined once. A single-line value (a name, an account, a password, a header value) may hold
 * none; a multi-line value (an announcement, a message) may hold tab, line feed and carriage return only.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is this module's purpose
const SINGLE_LINE = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above, with \t \n \r allowed
const MULTI_LINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above
const SINGLE_LINE_ALL = /[\u0000-\u001f\u007f]/g;

/** True when `s` holds a control character (with `multiline`, tab and line breaks are allowed). */
export function hasControlChars(s: string, opts: { multiline?: boolean } = {}): boolean {
  return (opts.multiline ? MULTI_LINE : SINGLE_LINE).test(s);
}

/** `s` without any control character (for text that came from elsewhere and is shown on one line). */
export function stripControlChars(s: string): string {
  return s.replace(SINGLE_LINE_ALL, '');
}
