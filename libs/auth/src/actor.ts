import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Role } from '@trektribe/common';

/** Who is acting: what services receive instead of the HTTP request. */
export interface Actor {
  id: string;
  role: Role;
  email: string;
  name: string;
}

export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Actor | undefined => {
    const req = ctx.switchToHttp().getRequest<{ user?: Actor }>();
    return req.user ?? undefined;
  },
);
