import { describe, expect, it } from 'vitest';
import { ssoErrorMessage } from './ssoErrors';

describe('single sign-on failures', () => {
  it('word each code the server sends', () => {
    expect(ssoErrorMessage('link_required')).toContain('link the provider on your Account page');
    expect(ssoErrorMessage('domain_not_allowed')).toContain('not in a domain');
  });

  it('never show text that came with the redirect', () => {
    expect(ssoErrorMessage('Call +1 555 0100 to unlock your account')).toBe('Single sign-on failed.');
  });
});
