import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';

/**
 * The signed-in actor the auth guard put on the request. Auth's own `CurrentUser` is not imported
 * here: auth imports notifications (its messages), and a runtime import back would be a cycle.
 */
export const RequestActor = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Actor => ctx.switchToHttp().getRequest<{ user: Actor }>().user,
);
