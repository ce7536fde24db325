import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { Idempotent, Roles } from '@trektribe/common';
import { CheckoutService } from './checkout.service';
import { VerifyCheckoutDto } from './checkout.dto';

@ApiTags('bookings')
@ApiBearerAuth()
@Roles('traveler')
@Controller({ path: 'bookings/:id/payments', version: '1' })
export class CheckoutController {
  constructor(private readonly checkout: CheckoutService) {}

  @Post('order')
  @HttpCode(200)
  @Idempotent()
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({
    summary: 'The Razorpay order for checkout (amount from the booking; the same live order on repeat calls)',
  })
  order(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.checkout.createOrder(actor, id);
  }

  @Post('verify')
  @HttpCode(200)
  @Idempotent()
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({
    summary: 'Checkout’s answer: signature, amount and currency checked; the booking is confirmed once',
  })
  verify(
    @CurrentUser() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: VerifyCheckoutDto,
  ) {
    return this.checkout.verify(actor, id, dto);
  }
}
