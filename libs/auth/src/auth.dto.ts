import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import { IsDateOnly, MultiLine, NotBefore, PageQuery, SingleLine } from '@trektribe/common';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const lower = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;

export const PASSWORD_RULE = /^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{8,128}$/;
const PASSWORD_MESSAGE =
  'password must be 8 to 128 characters with an upper-case letter, a lower-case letter and a digit';
export const PHONE_RULE = /^\+?[0-9]{10,15}$/;

export class RegisterDto {
  @ApiProperty({ example: 'Asha Rao' })
  @Transform(trim)
  @IsString()
  @SingleLine()
  @Length(1, 120)
  name: string;

  @ApiProperty({ example: 'asha@example.com' })
  @Transform(lower)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'Trek2026!', description: '8+ characters with upper, lower and a digit' })
  @IsString()
  @Matches(PASSWORD_RULE, { message: PASSWORD_MESSAGE })
  password: string;

  @ApiProperty({ example: '+919812345678' })
  @Transform(trim)
  @IsString()
  @Matches(PHONE_RULE, { message: 'phone must be 10 to 15 digits, optionally starting with +' })
  phone: string;

  @ApiPropertyOptional({ enum: ['traveler', 'organizer'], default: 'traveler' })
  @IsOptional()
  @IsIn(['traveler', 'organizer'], { message: 'role must be traveler or organizer' })
  role?: 'traveler' | 'organizer';
}

export class LoginDto {
  @ApiProperty({ example: 'asha@example.com' })
  @Transform(lower)
  @IsString()
  @SingleLine()
  @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'Trek2026!' })
  @IsString()
  @MaxLength(256)
  password: string;
}

export class RefreshDto {
  @ApiPropertyOptional({ description: 'Omit to use the refresh_token cookie' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(200)
  refreshToken?: string;
}

export class UpdateMeDto {
  @ApiPropertyOptional({ example: 'Asha R.' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @SingleLine()
  @Length(1, 120)
  name?: string;

  @ApiPropertyOptional({ example: '+919812345678' })
  @IsOptional()
  @Transform(trim)
  @Matches(PHONE_RULE, { message: 'phone must be 10 to 15 digits, optionally starting with +' })
  phone?: string;

  @ApiPropertyOptional({ example: 'Weekend trekker from Pune' })
  @IsOptional()
  @IsString()
  @MultiLine()
  @MaxLength(1000)
  bio?: string;

  @ApiPropertyOptional({ example: 'Pune' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @SingleLine()
  @MaxLength(120)
  location?: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @MaxLength(256)
  currentPassword: string;

  @ApiProperty({ example: 'NewTrek2026!' })
  @IsString()
  @Matches(PASSWORD_RULE, { message: PASSWORD_MESSAGE })
  newPassword: string;
}

export class ForgotPasswordDto {
  @ApiProperty({ example: 'asha@example.com' })
  @Transform(lower)
  @IsString()
  @SingleLine()
  @MaxLength(254)
  email: string;
}

export class ResetPasswordDto {
  @ApiProperty()
  @IsString()
  @SingleLine()
  @Length(10, 200)
  token: string;

  @ApiProperty({ example: 'NewTrek2026!' })
  @IsString()
  @Matches(PASSWORD_RULE, { message: PASSWORD_MESSAGE })
  password: string;
}

export class VerifyEmailDto {
  @ApiProperty()
  @IsString()
  @SingleLine()
  @Length(10, 200)
  token: string;
}

export class AdminUpdateUserDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  isActive?: boolean;

  @ApiPropertyOptional({ enum: ['traveler', 'organizer', 'agent', 'admin'] })
  @IsOptional()
  @IsIn(['traveler', 'organizer', 'agent', 'admin'])
  role?: 'traveler' | 'organizer' | 'agent' | 'admin';
}

/** `POST /admin/users`: a colleague's account; they choose their password from the emailed link. */
export class AdminCreateUserDto {
  @ApiProperty({ example: 'Meera Iyer' })
  @Transform(trim)
  @IsString()
  @SingleLine()
  @Length(1, 120)
  name: string;

  @ApiProperty({ example: 'meera@trektribe.example' })
  @Transform(lower)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty({ example: '+919812345678' })
  @Transform(trim)
  @IsString()
  @Matches(PHONE_RULE, { message: 'phone must be 10 to 15 digits, optionally starting with +' })
  phone: string;

  @ApiProperty({ enum: ['agent', 'admin'] })
  @IsIn(['agent', 'admin'], { message: 'role must be agent or admin' })
  role: 'agent' | 'admin';
}

export class AdminUsersQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Search email, name or phone' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(100)
  q?: string;

  @ApiPropertyOptional({ enum: ['traveler', 'organizer', 'agent', 'admin'] })
  @IsOptional()
  @IsIn(['traveler', 'organizer', 'agent', 'admin'])
  role?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'])
  isActive?: 'true' | 'false';

  @ApiPropertyOptional({ enum: ['active', 'inactive'], description: '`inactive`: deactivated accounts' })
  @IsOptional()
  @IsIn(['active', 'inactive'])
  status?: 'active' | 'inactive';
}

export class AdminAuditQuery extends PageQuery {
  @ApiPropertyOptional({ example: 'booking' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(40)
  entityType?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(80)
  entityId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  actorId?: string;

  @ApiPropertyOptional({ example: 'booking.cancelled' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(80)
  action?: string;

  @ApiPropertyOptional({ example: 'booking', description: 'the kind of entity (same as entityType)' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(40)
  entity?: string;

  @ApiPropertyOptional({ example: '2026-01-01', description: 'from this IST calendar day on' })
  @IsOptional()
  @IsDateOnly()
  from?: string;

  @ApiPropertyOptional({ example: '2026-01-31', description: 'up to the end of this IST calendar day' })
  @IsOptional()
  @IsDateOnly()
  @NotBefore('from')
  to?: string;
}

export class VerifyPhoneDto {
  @ApiProperty({ example: '482913', description: 'the 6-digit code sent by SMS' })
  @IsString()
  @SingleLine()
  @Matches(/^\d{6}$/, { message: 'code must be the 6 digits sent by SMS' })
  code: string;
}

/** `POST /auth/google`: the ID token Google Identity Services gave the client. */
export class GoogleSignInDto {
  @ApiProperty({ description: 'A Google ID token (JWT) from Google Identity Services' })
  @IsString()
  @SingleLine()
  @Length(20, 8192)
  credential: string;
}

/** `POST /auth/complete-profile`: what an account created without a phone (Google) still needs. */
export class CompleteProfileDto {
  @ApiProperty({ example: '+919812345678' })
  @Transform(trim)
  @IsString()
  @Matches(PHONE_RULE, { message: 'phone must be 10 to 15 digits, optionally starting with +' })
  phone: string;

  @ApiPropertyOptional({
    enum: ['traveler', 'organizer'],
    description: 'chosen once, only before any booking or trip',
  })
  @IsOptional()
  @IsIn(['traveler', 'organizer'], { message: 'role must be traveler or organizer' })
  role?: 'traveler' | 'organizer';
}
