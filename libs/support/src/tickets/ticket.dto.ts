import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MultiLine, NotBlank, PageQuery, SingleLine } from '@trektribe/common';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { TICKET_CATEGORIES, TicketCategory } from './ticket.entity';

/** A message's longest body, in characters (issue 13: longer → 400). */
export const MAX_MESSAGE_LENGTH = 10_000;

export class CreateTicketDto {
  @ApiProperty({ example: 'Refund not received for my cancelled booking' })
  @IsString()
  @SingleLine()
  @NotBlank()
  @MaxLength(200)
  subject: string;

  @ApiProperty({ example: 'I cancelled on 2 Dec and was told a refund is on its way…' })
  @IsString()
  @MultiLine()
  @NotBlank()
  @MaxLength(MAX_MESSAGE_LENGTH)
  message: string;

  @ApiProperty({ enum: TICKET_CATEGORIES })
  @IsIn(TICKET_CATEGORIES)
  category: TicketCategory;

  @ApiPropertyOptional({ description: 'one of my bookings (else 404)' })
  @IsOptional()
  @IsUUID()
  bookingId?: string;

  @ApiPropertyOptional({ description: 'one of my payments (else 404)' })
  @IsOptional()
  @IsUUID()
  paymentId?: string;
}

export class TicketMessageDto {
  @ApiProperty({ example: 'Here is the UPI reference: 412345678901' })
  @IsString()
  @MultiLine()
  @NotBlank()
  @MaxLength(MAX_MESSAGE_LENGTH)
  body: string;
}

export class MyTicketsQuery extends PageQuery {}
