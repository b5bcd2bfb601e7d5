// Text for messages: one line, credentials masked. A leaf module (no imports), so that
// contract/ and shared/errors.ts users can format errors without pulling in the logger.

// The password runs to the last '@' before the path: an unencoded '@' in it must not leave a tail.
// The scheme is optional: a mistyped one (`mqtt:://u:p@h`) must not expose the password either.
const URL_CREDS = /((?:[a-z][a-z0-9+.-]*:)?\/\/)([^/@\s:]+):([^/\s"]*)@/gi;

/** `rtsp://user:secret@host` -> `rtsp://user:***@host`, anywhere in a string. */
export function redactUrl(s: string): string {
  return s.replace(URL_CREDS, '$1$2:***@');
}

/** Escapes line breaks and other control characters (`\n` -> `\\n`), so a message stays one line. */
export function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]/g, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\r'
        ? '\\r'
        : c === '\t'
          ? '\\t'
          : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
