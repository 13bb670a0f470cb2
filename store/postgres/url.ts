// What a PostgreSQL URL looks like, and how one is shown without its password. No driver here: the
// CLI's entry and the workstation ask "is this a team store?" without loading node-postgres.
const URL_RE = /^postgres(?:ql)?:\/\//;
/** `scheme://user:password@`: the user part with a password ($1 is all before the `:`). */
const USER_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@?]*):[^@/?]*@/i;

/** The URL with any password (user part or `password=` parameter) replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  return url.replace(USER_PASSWORD, '$1:***@').replace(/([?&]password=)[^&]*/gi, '$1***');
}

export function isPostgresUrl(s: string): boolean {
  return URL_RE.test(s);
}

/** Does the URL carry a password (in its user part, or as a `password=` query parameter)? */
export function urlHasPassword(url: string): boolean {
  return USER_PASSWORD.test(url) || /[?&]password=/i.test(url);
}

/**
 * The URL with no password at all, for a command someone else runs: node-postgres then takes the
 * password from PGPASSWORD or ~/.pgpass (PGPASSFILE), as libpq does. `***` would be sent as one.
 */
export function urlWithoutPassword(url: string): string {
  const noUser = url.replace(USER_PASSWORD, '$1@');
  const q = noUser.indexOf('?');
  if (q < 0) return noUser;
  const kept = noUser.slice(q + 1).split('&').filter((p) => p !== '' && !/^password=/i.test(p));
  return kept.length ? `${noUser.slice(0, q)}?${kept.join('&')}` : noUser.slice(0, q);
}
