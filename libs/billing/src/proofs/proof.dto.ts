import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MultiLine, PageQuery } from '@trektribe/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export const MAX_PROOF_BYTES = 5 * 1024 * 1024;

/** The text fields of the multipart upload (the file itself is the `file` part). */
export class UploadProofDto {
  @ApiPropertyOptional({
    example: '412345678901',
    description: 'UPI transaction reference (UTR), 6–64 letters, digits or -',
  })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @Matches(/^[A-Za-z0-9-]{6,64}$/, { message: 'upiReference must be 6 to 64 letters, digits or -' })
  upiReference?: string;
}

/** Swagger shape of the multipart body. */
export class UploadProofForm extends UploadProofDto {
  @ApiProperty({
    type: 'string',
    format: 'binary',
    description: 'PNG, JPEG, WebP or PDF (judged by content), at most 5 MB',
  })
  file: unknown;
}

export class ReviewProofDto {
  @ApiProperty({ description: 'true: the money arrived, confirm the booking; false: reject the proof' })
  @IsBoolean()
  approve: boolean;

  @ApiPropertyOptional({ maxLength: 500, example: 'No credit with this reference in our account' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MultiLine()
  @MaxLength(500)
  note?: string;
}

export class PendingVerificationsQuery extends PageQuery {}
