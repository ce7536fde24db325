import { SetMetadata } from '@nestjs/common';

export const ROLES = ['traveler', 'organizer', 'agent', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const IS_PUBLIC_KEY = 'tt:isPublic';
export const ROLES_KEY = 'tt:roles';

/** No token needed. Every route must say either @Public() or which roles may call it. */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
/** Any signed-in user, whatever the role. */
export const Authenticated = () => SetMetadata(ROLES_KEY, [...ROLES]);
