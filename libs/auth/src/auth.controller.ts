import { Body, Controller, Get, HttpCode, Patch, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig, Authenticated, Public } from '@trektribe/common';
import { Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Actor, CurrentUser } from './actor';
import {
  ChangePasswordDto,
  CompleteProfileDto,
  ForgotPasswordDto,
  GoogleSignInDto,
  LoginDto,
  RefreshDto,
  RegisterDto,
  ResetPasswordDto,
  UpdateMeDto,
  VerifyEmailDto,
  VerifyPhoneDto,
} from './auth.dto';
import { PhoneVerificationService } from './phone/phone-verification.service';
import { AuthThrottle } from './auth-throttle';
import { AuthResult, AuthService } from './auth.service';
import { GoogleSignInService } from './google/google-sign-in.service';
import { ACCESS_COOKIE, REFRESH_COOKIE } from './guards/jwt.strategy';

@ApiTags('auth')
@Controller({ path: 'auth', version: '1' })
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly phone: PhoneVerificationService,
    private readonly google: GoogleSignInService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('phone/send-code')
  @Authenticated()
  @ApiBearerAuth()
  @HttpCode(200)
  @ApiOperation({ summary: 'Text a 6-digit code to my phone (E.164; at most 5 an hour, valid 10 minutes)' })
  sendPhoneCode(@CurrentUser() actor: Actor) {
    return this.phone.sendCode(actor);
  }

  @Post('phone/verify')
  @Authenticated()
  @ApiBearerAuth()
  @HttpCode(200)
  @ApiOperation({ summary: 'Verify my phone with the code (5 tries; wrong 400, too many 429)' })
  verifyPhone(@CurrentUser() actor: Actor, @Body() dto: VerifyPhoneDto) {
    return this.phone.verify(actor, dto.code);
  }

  @Post('register')
  @Public()
  @AuthThrottle()
  @ApiOperation({ summary: 'Create a traveler or organizer account' })
  async register(@Body() dto: RegisterDto, @Res({ passthrough: true }) res: Response) {
    return this.withCookies(res, await this.auth.register(dto));
  }

  @Post('login')
  @Public()
  @AuthThrottle()
  @HttpCode(200)
  async login(@Body() dto: LoginDto, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.withCookies(res, await this.auth.login(dto, req.ip ?? 'unknown'));
  }

  @Post('google')
  @Public()
  @AuthThrottle()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Sign in with a Google ID token: the linked account, the account with the same verified email (linked), or a new traveler',
  })
  async googleSignIn(@Body() dto: GoogleSignInDto, @Res({ passthrough: true }) res: Response) {
    return this.withCookies(res, await this.google.signIn(dto.credential));
  }

  @Post('complete-profile')
  @Authenticated()
  @ApiBearerAuth()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Add the phone (and choose the role, once, before any booking or trip) of an account made without one',
  })
  async completeProfile(
    @CurrentUser() actor: Actor,
    @Body() dto: CompleteProfileDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.withCookies(res, await this.auth.completeProfile(actor, dto));
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate a refresh token (body or cookie); re-use of a rotated token revokes its family',
  })
  async refresh(@Body() dto: RefreshDto, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.withCookies(res, await this.auth.refresh(dto.refreshToken ?? cookie(req, REFRESH_COOKIE)));
  }

  @Post('logout-all')
  @Authenticated()
  @ApiBearerAuth()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Sign out on every device: all tokens stop working and open sockets are disconnected',
  })
  async logoutAll(@CurrentUser() actor: Actor, @Res({ passthrough: true }) res: Response) {
    await this.auth.logoutAll(actor);
    res.clearCookie(ACCESS_COOKIE, { path: '/' });
    res.clearCookie(REFRESH_COOKIE, { path: '/api/v1/auth' });
  }

  @Post('logout')
  @Authenticated()
  @ApiBearerAuth()
  @HttpCode(204)
  async logout(
    @CurrentUser() actor: Actor,
    @Body() dto: RefreshDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    await this.auth.logout(actor, dto.refreshToken ?? cookie(req, REFRESH_COOKIE));
    res.clearCookie(ACCESS_COOKIE, { path: '/' });
    res.clearCookie(REFRESH_COOKIE, { path: '/api/v1/auth' });
  }

  @Get('me')
  @Authenticated()
  @ApiBearerAuth()
  me(@CurrentUser() actor: Actor) {
    return this.auth.me(actor);
  }

  @Patch('me')
  @Authenticated()
  @ApiBearerAuth()
  updateMe(@CurrentUser() actor: Actor, @Body() dto: UpdateMeDto) {
    return this.auth.updateMe(actor, dto);
  }

  @Post('change-password')
  @Authenticated()
  @ApiBearerAuth()
  @HttpCode(200)
  async changePassword(
    @CurrentUser() actor: Actor,
    @Body() dto: ChangePasswordDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.withCookies(res, await this.auth.changePassword(actor, dto));
  }

  @Post('forgot-password')
  @Public()
  @AuthThrottle()
  @HttpCode(200)
  @ApiOperation({ summary: 'Mail a reset code if the account exists; the answer is the same either way' })
  async forgotPassword(@Body() dto: ForgotPasswordDto) {
    await this.auth.forgotPassword(dto);
    return { message: 'If an account exists for this email, a reset code is on its way.' };
  }

  @Post('reset-password')
  @Public()
  @AuthThrottle()
  @HttpCode(200)
  async resetPassword(@Body() dto: ResetPasswordDto) {
    await this.auth.resetPassword(dto);
    return { message: 'Password updated; sign in again.' };
  }

  @Post('verify-email')
  @Public()
  @HttpCode(200)
  async verifyEmail(@Body() dto: VerifyEmailDto) {
    await this.auth.verifyEmail(dto);
    return { message: 'Email verified.' };
  }

  /** Browser clients get the same tokens as HTTP-only cookies; API clients use the body. */
  private withCookies<T extends AuthResult>(res: Response, result: T): T {
    const secure = this.config.nodeEnv === 'production';
    res.cookie(ACCESS_COOKIE, result.accessToken, {
      httpOnly: true,
      sameSite: 'strict',
      secure,
      path: '/',
      maxAge: result.expiresIn * 1000,
    });
    res.cookie(REFRESH_COOKIE, result.refreshToken, {
      httpOnly: true,
      sameSite: 'strict',
      secure,
      path: '/api/v1/auth',
      maxAge: result.refreshExpiresIn * 1000,
    });
    return result;
  }
}

function cookie(req: Request, name: string): string | undefined {
  return (req.cookies as Record<string, string> | undefined)?.[name];
}
