import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { CommonModule } from '@trektribe/common';
import { NotificationsModule } from '@trektribe/notifications';
import { AdminListsCsv } from './admin-lists';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersService } from './admin-users.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { AppAuthGuard } from './guards/auth.guard';
import { JwtStrategy } from './guards/jwt.strategy';
import { LoginAttemptsService } from './login-attempts.service';
import { OneTimeTokens } from './tokens/one-time-tokens';
import { AccessTokenKeys } from './tokens/access-keys';
import { TokenService } from './tokens/token.service';
import { PasswordService } from './users/password.service';
import { UserDirectory } from './users/user-directory';
import { PhoneVerificationService } from './phone/phone-verification.service';
import { GoogleIdTokens } from './google/google-id-token';
import { GoogleKeys } from './google/google-keys';
import { GoogleSignInService } from './google/google-sign-in.service';

@Module({
  imports: [PassportModule, JwtModule.register({}), CommonModule, NotificationsModule],
  controllers: [AuthController, AdminUsersController],
  providers: [
    AdminUsersService,
    AdminListsCsv,
    AuthService,
    TokenService,
    OneTimeTokens,
    AccessTokenKeys,
    PasswordService,
    LoginAttemptsService,
    JwtStrategy,
    AppAuthGuard,
    UserDirectory,
    PhoneVerificationService,
    GoogleKeys,
    GoogleIdTokens,
    GoogleSignInService,
  ],
  exports: [AuthService, TokenService, AccessTokenKeys, AppAuthGuard, UserDirectory],
})
export class AuthModule {}
