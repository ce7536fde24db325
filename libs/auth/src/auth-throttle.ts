import { SetMetadata } from '@nestjs/common';

/** Marks sign-up, login and password-reset routes for the per-IP AUTH_THROTTLE_LIMIT. */
export const AUTH_THROTTLE_KEY = 'tt:authThrottle';
export const AuthThrottle = () => SetMetadata(AUTH_THROTTLE_KEY, true);
