import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { Roles } from '@trektribe/common';
import { SetupAutoPayDto, VerifyAutoPayDto } from './auto-pay.dto';
import { SubscriptionChargeRun } from './subscription-charge-run';
import { SubscriptionReminders } from './subscription-reminders';
import { AutoPayService } from './auto-pay.service';

@ApiTags('auto-pay')
@ApiBearerAuth()
@Controller({ path: 'auto-pay', version: '1' })
export class AutoPayController {
  constructor(
    private readonly autoPay: AutoPayService,
    private readonly chargeRun: SubscriptionChargeRun,
    private readonly reminders: SubscriptionReminders,
  ) {}

  @Get('status')
  @Roles('organizer')
  @ApiOperation({ summary: 'The organizer plan: trial, next charge, failed attempts, mandate' })
  status(@CurrentUser() actor: Actor) {
    return this.autoPay.status(actor);
  }

  @Post('setup')
  @Roles('organizer')
  @ApiOperation({ summary: 'Start an auto-pay mandate: an authorisation order to pay in checkout' })
  setup(@CurrentUser() actor: Actor, @Body() dto: SetupAutoPayDto) {
    return this.autoPay.setup(actor, dto.method);
  }

  @Post('verify')
  @Roles('organizer')
  @HttpCode(200)
  @ApiOperation({ summary: "Checkout's answer for the authorisation order: saves the mandate" })
  verify(@CurrentUser() actor: Actor, @Body() dto: VerifyAutoPayDto) {
    return this.autoPay.verify(actor, dto);
  }

  @Post('cancel')
  @Roles('organizer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop renewal at the end of the paid period' })
  cancel(@CurrentUser() actor: Actor) {
    return this.autoPay.cancel(actor);
  }

  @Post('process-scheduled')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Run the charge job now (normally 02:00 IST)' })
  processScheduled() {
    return this.chargeRun.processDueSubscriptions();
  }

  @Post('send-reminders')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run the trial-ending and payment-reminder jobs now (normally 09:00 and 10:00 IST)',
  })
  async sendReminders() {
    const trialNotices = await this.reminders.sendTrialEndingNotices();
    const reminders = await this.reminders.sendReminders();
    return { reminders, trialNotices };
  }
}
