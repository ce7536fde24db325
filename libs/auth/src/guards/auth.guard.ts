import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import { DomainError, IS_PUBLIC_KEY, Role, ROLES_KEY } from '@trektribe/common';
import type { Actor } from '../actor';

/**
 * The one global guard: every route needs a valid token unless it is @Public(), and then one of the
 * roles named by @Roles(). Ownership is checked by the services' queries, not here.
 */
@Injectable()
export class AppAuthGuard extends PassportAuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.isPublic(context);
    const hasCredentials = this.hasCredentials(context);
    if (isPublic && !hasCredentials) return true;
    try {
      await super.canActivate(context);
    } catch (err) {
      if (isPublic) return true; // a bad token on a public route is simply anonymous
      throw err;
    }
    if (isPublic) return true;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    const user = context.switchToHttp().getRequest<{ user?: Actor }>().user;
    if (!user) throw new DomainError('UNAUTHORIZED', 'Authentication required');
    if (!roles || !roles.includes(user.role)) {
      throw new DomainError('FORBIDDEN', 'You do not have permission to do this');
    }
    return true;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err instanceof DomainError) throw err;
    if (err || !user)
      throw new DomainError(
        'UNAUTHORIZED',
        'Authentication required: the token is missing, invalid or expired',
      );
    return user;
  }

  private isPublic(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]) ===
      true
    );
  }

  private hasCredentials(context: ExecutionContext): boolean {
    const req = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined>; cookies?: Record<string, string> }>();
    return Boolean(req.headers.authorization) || Boolean(req.cookies?.access_token);
  }
}
