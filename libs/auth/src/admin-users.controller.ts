import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CsvExportable, Roles, WantsCsv } from '@trektribe/common';
import { Actor, CurrentUser } from './actor';
import { AdminListsCsv } from './admin-lists';
import { AdminUsersService } from './admin-users.service';
import { AdminAuditQuery, AdminCreateUserDto, AdminUpdateUserDto, AdminUsersQuery } from './auth.dto';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller({ path: 'admin', version: '1' })
export class AdminUsersController {
  constructor(
    private readonly users: AdminUsersService,
    private readonly csv: AdminListsCsv,
  ) {}

  @Get('users')
  @CsvExportable()
  list(@Query() q: AdminUsersQuery, @WantsCsv() csv: boolean) {
    return csv ? this.csv.users(q) : this.users.list(q);
  }

  @Post('users')
  @ApiOperation({
    summary: 'Create an agent or admin',
    description: 'They choose a password from the emailed single-use link (72 h). 409 EMAIL_TAKEN.',
  })
  create(@CurrentUser() actor: Actor, @Body() dto: AdminCreateUserDto) {
    return this.users.create(actor, dto);
  }

  @Get('users/:id')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.users.get(id);
  }

  @Patch('users/:id')
  update(
    @CurrentUser() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: AdminUpdateUserDto,
  ) {
    return this.users.update(actor, id, dto);
  }

  /** Deactivates: bookings and payments must keep pointing at a real user. */
  @Delete('users/:id')
  @HttpCode(204)
  async remove(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    await this.users.deactivate(actor, id);
  }

  @Get('audit-logs')
  @CsvExportable()
  auditLogs(@Query() q: AdminAuditQuery, @WantsCsv() csv: boolean) {
    return csv ? this.csv.auditLogs(q) : this.users.auditLogs(q);
  }
}
