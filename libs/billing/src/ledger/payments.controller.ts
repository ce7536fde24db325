import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { CsvExportable, Roles, WantsCsv } from '@trektribe/common';
import { AdminPaymentsQuery, MyPaymentsQuery } from './payment.dto';
import { PaymentsQueryService } from './payments-query.service';

@ApiTags('payments')
@ApiBearerAuth()
@Controller({ path: 'payments', version: '1' })
export class PaymentsController {
  constructor(private readonly query: PaymentsQueryService) {}

  @Get()
  @Roles('traveler', 'organizer')
  @ApiOperation({ summary: 'Your own payments (bookings for travelers, the platform plan for organizers)' })
  mine(@CurrentUser() actor: Actor, @Query() q: MyPaymentsQuery) {
    return this.query.mine(actor, q);
  }

  @Get(':id')
  @Roles('traveler', 'organizer')
  @ApiOperation({ summary: 'One of your payments, with its refunds' })
  one(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.query.mineOne(actor, id);
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller({ path: 'admin/payments', version: '1' })
export class AdminPaymentsController {
  constructor(private readonly query: PaymentsQueryService) {}

  @Get()
  @CsvExportable()
  @ApiOperation({ summary: 'Every payment: filter by status, method, booking, payer and creation dates' })
  list(@Query() q: AdminPaymentsQuery, @WantsCsv() csv: boolean) {
    return csv ? this.query.forAdminCsv(q) : this.query.forAdmin(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One payment, with its payer and refunds' })
  one(@Param('id', ParseUUIDPipe) id: string) {
    return this.query.forAdminOne(id);
  }
}
