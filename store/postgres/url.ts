// What a PostgreSQL URL looks like, and how one is shown without its password. No driver here: the
// CLI's entry and the workstation ask "is this a team store?" without loading node-postgres.
const URL_RE = /^postgres(?:ql)?:\/\//;

/** The URL with any password replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?]*):[^@/?]*@/i, '$1:***@');
}

export function isPostgresUrl(s: string): boolean {
  return URL_RE.test(s);
}
