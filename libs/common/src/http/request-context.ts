import { ClsService, ClsStore } from 'nestjs-cls';

/** What the audit log and the logs want to know about the request being served. */
export interface RequestContext extends ClsStore {
  requestId?: string;
  ip?: string;
  userAgent?: string;
  userId?: string;
}

export type RequestContextService = ClsService<RequestContext>;
