import {
  Controller,
  createParamDecorator,
  ExecutionContext,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '@trektribe/common';
import { InboxQuery } from './inbox.dto';
import { InboxService } from './inbox.service';

/** The signed-in user's id (the auth guard has put the actor on the request). */
const UserId = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => {
  return ctx.switchToHttp().getRequest<{ user: { id: string } }>().user.id;
});

@ApiTags('notifications')
@ApiBearerAuth()
@Authenticated()
@Controller({ path: 'notifications', version: '1' })
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get()
  @ApiOperation({ summary: 'My notifications, newest first; meta.unread is the unread count' })
  list(@UserId() userId: string, @Query() q: InboxQuery) {
    return this.inbox.list(userId, q);
  }

  @Patch(':id/read')
  @ApiOperation({ summary: "Mark one of my notifications read (another user's id: 404)" })
  read(@UserId() userId: string, @Param('id', ParseUUIDPipe) id: string) {
    return this.inbox.markRead(userId, id);
  }

  @Post('read-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark all my notifications read → {updated}' })
  readAll(@UserId() userId: string) {
    return this.inbox.markAllRead(userId);
  }
}
