// A team store's URL in a ticket's command: no password at all (node-postgres then reads PGPASSWORD or
// ~/.pgpass); in messages: the password as `***`.
import { describe, expect, it } from 'vitest';
import { redactUrl, urlHasPassword, urlWithoutPassword } from '../../store/postgres/url.js';

describe('postgres URLs without their password', () => {
  it('drops the user part password and a password= parameter, keeps everything else', () => {
    expect(urlWithoutPassword('postgres://team:pw@/stella?host=/tmp/x&port=5491')).toBe('postgres://team@/stella?host=/tmp/x&port=5491');
    expect(urlWithoutPassword('postgresql://team:p%40ss@db.example:5432/stella')).toBe('postgresql://team@db.example:5432/stella');
    expect(urlWithoutPassword('postgres://team@/stella?password=pw&host=/tmp/x')).toBe('postgres://team@/stella?host=/tmp/x');
    expect(urlWithoutPassword('postgres://team@/stella?password=pw')).toBe('postgres://team@/stella');
    expect(urlWithoutPassword('postgres://team@/stella?host=/tmp/x')).toBe('postgres://team@/stella?host=/tmp/x');
  });

  it('says whether a URL carries one; messages redact both forms', () => {
    expect(urlHasPassword('postgres://team:pw@/stella?host=/tmp/x')).toBe(true);
    expect(urlHasPassword('postgres://team@/stella?host=/tmp/x&password=pw')).toBe(true);
    expect(urlHasPassword('postgres://team@/stella?host=/tmp/x')).toBe(false);
    expect(redactUrl('postgres://team@/stella?host=/tmp/x&password=pw')).toBe('postgres://team@/stella?host=/tmp/x&password=***');
    expect(redactUrl('postgres://team:pw@/stella')).toBe('postgres://team:***@/stella');
  });
});
