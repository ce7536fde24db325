import { Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '@trektribe/common';
import type { Request } from 'express';
import { WebhooksService } from '@trektribe/billing';

/** Thin: the raw body (kept by bootstrap for /api/v1/webhooks/*) and two headers go to the service. */
@ApiTags('webhooks')
@Public()
@SkipThrottle()
@Controller({ path: 'webhooks', version: '1' })
export class RazorpayWebhookController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post('razorpay')
  @HttpCode(200)
  @ApiHeader({
    name: 'x-razorpay-signature',
    required: true,
    description: 'hex HMAC-SHA256 of the raw body with the webhook secret',
  })
  @ApiHeader({ name: 'x-razorpay-event-id', required: true })
  @ApiOperation({ summary: 'Razorpay events: verified, deduplicated by event id, applied once' })
  razorpay(
    @Req() req: Request & { rawBody?: Buffer },
    @Headers('x-razorpay-signature') signature: string | undefined,
    @Headers('x-razorpay-event-id') eventId: string | undefined,
  ) {
    return this.webhooks.receiveRazorpay({
      rawBody: req.rawBody,
      signature,
      eventId,
      body: req.body as unknown,
    });
  }
}
