import {
  Body,
  Controller,
  Get,
  HttpCode,
  Logger,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { DomainError, Idempotent, Roles } from '@trektribe/common';
import type { Response } from 'express';
import { memoryStorage } from 'multer';
import {
  MAX_PROOF_BYTES,
  PendingVerificationsQuery,
  UploadProofDto,
  UploadProofForm,
  ReviewProofDto,
} from './proof.dto';
import { ProofReview } from './proof-review';
import { ProofsService, UploadedProof } from './proofs.service';

@ApiTags('payment proofs')
@ApiBearerAuth()
@Controller({ path: 'bookings', version: '1' })
export class PaymentProofsController {
  private readonly logger = new Logger(PaymentProofsController.name);

  constructor(
    private readonly proofs: ProofsService,
    private readonly review: ProofReview,
  ) {}

  @Post(':id/payment-proof')
  @Roles('traveler')
  @UseInterceptors(
    FileInterceptor('file', {
      storage: memoryStorage(),
      limits: { fileSize: MAX_PROOF_BYTES, files: 1, fields: 5, fieldSize: 1024, parts: 8 },
    }),
  )
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadProofForm })
  @ApiOperation({
    summary:
      'Upload a screenshot or PDF of the payment (PNG/JPEG/WebP/PDF by content, ≤ 5 MB): the hold pauses until the organizer verifies it',
  })
  upload(
    @CurrentUser() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
    @UploadedFile() file: UploadedProof | undefined,
    @Body() dto: UploadProofDto,
  ) {
    if (!file) {
      throw new DomainError('VALIDATION_ERROR', 'A file is required', [
        { field: 'file', message: 'file is required (multipart field "file")' },
      ]);
    }
    return this.proofs.upload(actor, id, file, dto.upiReference);
  }

  @Get(':id/payment-proof')
  @Roles('traveler', 'organizer', 'agent', 'admin')
  @ApiOperation({
    summary: "The booking's latest payment proof (traveler: own; organizer: own trips; staff: all)",
  })
  latest(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.proofs.latest(actor, id);
  }

  @Get(':id/payment-proof/file')
  @Roles('traveler', 'organizer', 'agent', 'admin')
  @ApiProduces('image/png', 'image/jpeg', 'image/webp', 'application/pdf')
  @ApiOperation({ summary: "The latest proof's file, inline" })
  async file(
    @CurrentUser() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
    @Res() res: Response,
  ): Promise<void> {
    const f = await this.proofs.openFile(actor, id);
    res.status(200);
    res.setHeader('Content-Type', f.mimeType);
    res.setHeader('Content-Length', String(f.size));
    res.setHeader('Content-Disposition', `inline; filename="${f.fileName}"`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'private, no-store');
    const stream = f.handle.createReadStream(); // closes the handle when done or destroyed
    stream.on('error', (err) => {
      this.logger.error({ err, bookingId: id }, 'payment proof stream failed');
      res.destroy(err);
    });
    res.on('close', () => stream.destroy());
    stream.pipe(res);
  }

  @Post(':id/verify-payment')
  @Roles('organizer', 'admin')
  @HttpCode(200)
  @Idempotent()
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'repeat-safe decision for 24 h' })
  @ApiOperation({
    summary:
      "The trip's organizer approves (booking confirmed) or rejects (hold resumes for 24 h) the pending proof",
  })
  verify(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: ReviewProofDto) {
    return this.review.verify(actor, id, dto);
  }
}

@ApiTags('organizer')
@ApiBearerAuth()
@Controller({ path: 'organizer', version: '1' })
export class PendingVerificationsController {
  constructor(private readonly proofs: ProofsService) {}

  @Get('pending-verifications')
  @Roles('organizer')
  @ApiOperation({ summary: 'Payment proofs awaiting your verification on your trips, oldest first' })
  list(@CurrentUser() actor: Actor, @Query() q: PendingVerificationsQuery) {
    return this.proofs.pendingForOrganizer(actor, q);
  }
}
