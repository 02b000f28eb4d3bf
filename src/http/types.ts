/** Where a credential is checked: the admin API, the metrics scrape, the dashboard's sign-in. */
export type AuthSurface = 'admin' | 'metrics' | 'dashboard';

/** wrong: a credential that was not the token; throttled: refused unchecked, the address being locked out. */
export type AuthRefusal = 'wrong' | 'throttled';
