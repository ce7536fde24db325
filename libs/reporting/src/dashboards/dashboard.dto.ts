import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';

/** `?userId=`: whose dashboard an admin reads (a traveler's or an organizer's). */
export class PersonDashboardQuery {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      "Admins only: whose dashboard to read. Without it an admin gets 400; another user's id from anyone else, 403.",
  })
  @IsOptional()
  @IsUUID('all')
  userId?: string;
}

/** A dashboard that takes no query: anything in it is an error (400), never silently ignored. */
export class NoQuery {}
