import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MultiLine, NotBlank, PageQuery, SingleLine } from '@trektribe/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, Length, Matches, MaxLength } from 'class-validator';
import { MAX_MESSAGE_LENGTH } from '../tickets/ticket.dto';
import { TICKET_CATEGORIES, TICKET_STATUSES, TicketCategory, TicketStatus } from '../tickets/ticket.entity';

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** `GET /agent/tickets`: the queue, overdue first, then high priority, then the earliest due. */
export class AgentTicketsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: TICKET_STATUSES })
  @IsOptional()
  @IsIn(TICKET_STATUSES)
  status?: TicketStatus;

  @ApiPropertyOptional({ description: '`me`, `unassigned` or an agent id' })
  @IsOptional()
  @IsString()
  @Matches(new RegExp(`^(me|unassigned|${UUID})$`), {
    message: 'assignee must be me, unassigned or an agent id',
  })
  assignee?: string;

  @ApiPropertyOptional({ enum: TICKET_CATEGORIES })
  @IsOptional()
  @IsIn(TICKET_CATEGORIES)
  category?: TicketCategory;

  @ApiPropertyOptional({ description: 'Text in the subject or any message (3–100 characters)' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @Length(3, 100)
  q?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'])
  overdue?: 'true' | 'false';
}

export class AssignTicketDto {
  @ApiPropertyOptional({ description: 'An active agent (admins only); yourself when left out' })
  @IsOptional()
  @IsUUID()
  agentId?: string;
}

export const REPLY_CHANNELS = ['email', 'sms', 'whatsapp'] as const;
export type ReplyChannel = (typeof REPLY_CHANNELS)[number];

export class AgentMessageDto {
  @ApiProperty({ example: 'Your refund left us today; banks take 5–7 working days.' })
  @IsString()
  @MultiLine()
  @NotBlank()
  @MaxLength(MAX_MESSAGE_LENGTH)
  body: string;

  @ApiPropertyOptional({
    description: 'An internal note: never shown or sent to the customer',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  internal?: boolean;

  @ApiPropertyOptional({
    enum: REPLY_CHANNELS,
    default: 'email',
    description: 'A reply always goes in-app and by email; `sms` or `whatsapp` also texts a verified phone',
  })
  @IsOptional()
  @IsIn(REPLY_CHANNELS)
  channel?: ReplyChannel;
}

export class TicketStatusDto {
  @ApiProperty({ enum: TICKET_STATUSES })
  @IsIn(TICKET_STATUSES)
  status: TicketStatus;
}

export class CustomerSearchQuery {
  @ApiProperty({
    description: 'Part of a name, email or phone: 3–100 characters with 3 letters or digits in a row',
    example: '98123',
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @SingleLine()
  @Length(3, 100)
  // A trigram index can only look up a run of 3 letters or digits; '%%%' or '...' would mean a scan.
  @Matches(/[\p{L}\p{N}]{3}/u, { message: 'q must contain 3 letters or digits in a row' })
  q: string;
}
