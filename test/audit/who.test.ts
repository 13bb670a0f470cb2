import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { auditWho } from '../../src/app/who.js';

describe('auditWho: the who of an audit row', () => {
  it('takes USER, then LOGNAME, then the OS account when both are unset', () => {
    expect(auditWho({ USER: 'ana', LOGNAME: 'bob' })).toBe('ana');
    expect(auditWho({ LOGNAME: 'bob' })).toBe('bob');
    expect(auditWho({ STELLA_USER: 'cy', USER: 'ana' })).toBe('cy');
    const account = os.userInfo().username;
    expect(account.length).toBeGreaterThan(0);
    expect(auditWho({})).toBe(account);
    expect(auditWho({ USER: '', LOGNAME: '  ' })).toBe(account);
    expect(auditWho({})).not.toBe('unknown');
  });
  it('adds the client address from SSH_CONNECTION, and an explicit --who wins over the environment', () => {
    expect(auditWho({ SSH_CONNECTION: '192.0.2.7 50122 127.0.0.1 22' })).toBe(`${os.userInfo().username} from 192.0.2.7`);
    expect(auditWho({ USER: 'ana', SSH_CONNECTION: '::1 40000 ::1 22' })).toBe('ana from ::1');
    expect(auditWho({ USER: 'ana' }, 'release-bot')).toBe('release-bot');
    expect(auditWho({ USER: 'ana', SSH_CONNECTION: ' ' })).toBe('ana');
  });
});
