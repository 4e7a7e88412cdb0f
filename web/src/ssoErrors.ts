/**
 * What the login and Account pages say for a single sign-on failure. The server sends only a code (never text: a
 * crafted callback link could otherwise put any sentence on the page); an unknown code gets a generic sentence.
 */
const MESSAGES: Record<string, string> = {
  provider_error: 'The identity provider did not complete the sign-in.',
  expired: 'The sign-in expired or did not start here; start it again.',
  unavailable: 'The identity provider could not be reached; try again later.',
  token_refused: 'The identity provider did not accept the sign-in.',
  no_id_token: 'The identity provider sent no ID token; ask your administrator to allow the openid scope.',
  invalid_token: 'The identity provider\'s answer was not valid for this sign-in; start it again.',
  no_email: 'The identity provider sent no email address; ask your administrator to allow the email scope.',
  email_unverified: 'The identity provider has not verified your email address.',
  domain_not_allowed: 'Your email address is not in a domain this server admits.',
  link_required:
    'An account with your address exists, but its address is not verified. Sign in with its password, then link the provider on your Account page.',
  identity_taken: 'This identity is linked to another account.',
  link_mismatch: 'The identity provider signed in another address than this account\'s; sign in there with this account\'s address.',
  signed_out: 'Linking needs you signed in to this account in this browser; sign in and try again.',
};

export function ssoErrorMessage(code: string): string {
  return MESSAGES[code] ?? 'Single sign-on failed.';
}
