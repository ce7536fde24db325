export { AuthModule } from './auth.module';
export { AuthService } from './auth.service';
export { AppAuthGuard } from './guards/auth.guard';
export { Actor, CurrentUser } from './actor';
export { AUTH_THROTTLE_KEY } from './auth-throttle';
export { User } from './users/user.entity';
export { UserDirectory, UserContact } from './users/user-directory';
export type { UserView } from './users/user.entity';
export { AccessClaims } from './tokens/token.service';
export { AccessTokenKeys } from './tokens/access-keys';
export type { SessionsRevoked } from './auth.events';

import { RefreshToken } from './tokens/refresh-token.entity';
import { UserToken } from './tokens/user-token.entity';
import { PhoneCode } from './phone/phone-code.entity';
import { User } from './users/user.entity';
export const AUTH_ENTITIES = [User, RefreshToken, UserToken, PhoneCode];
