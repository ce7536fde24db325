import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@trektribe/auth';
import { Authenticated } from '@trektribe/common';
import { RequestActor } from '../http';
import { PatchPreferencesDto } from './preferences.dto';
import { PreferencesService } from './preferences.service';

@ApiTags('notifications')
@ApiBearerAuth()
@Authenticated()
@Controller({ path: 'notifications/preferences', version: '1' })
export class PreferencesController {
  constructor(private readonly preferences: PreferencesService) {}

  @Get()
  @ApiOperation({ summary: 'What reaches me: channels, per-type switches, quiet hours and timezone' })
  get(@RequestActor() actor: Actor) {
    return this.preferences.get(actor.id);
  }

  @Patch()
  @ApiOperation({
    summary: 'Change what reaches me (merged); security mail cannot be turned off (422 PREFERENCE_LOCKED)',
  })
  patch(@RequestActor() actor: Actor, @Body() dto: PatchPreferencesDto) {
    return this.preferences.patch(actor.id, dto);
  }
}
