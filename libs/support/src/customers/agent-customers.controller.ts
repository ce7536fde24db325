import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '@trektribe/common';
import { CustomerSearchQuery } from '../desk/agent.dto';
import { CustomerRecordsService } from './customer-records.service';

@ApiTags('agent')
@ApiBearerAuth()
@Roles('agent', 'admin')
@Controller({ path: 'agent/customers', version: '1' })
export class AgentCustomersController {
  constructor(private readonly customers: CustomerRecordsService) {}

  @Get('search')
  @ApiOperation({
    summary: 'Find travelers and organizers by part of a name, email or phone (3+ characters)',
  })
  search(@Query() q: CustomerSearchQuery) {
    return this.customers.search(q.q);
  }

  @Get(':id')
  @ApiOperation({ summary: "A customer's profile with their bookings, payments, refunds and tickets" })
  profile(@Param('id', ParseUUIDPipe) id: string) {
    return this.customers.profile(id);
  }
}
