/**
 * Every session of a user ended in this transaction: password changed or reset, deactivated, or
 * role changed (the token version was bumped and the refresh tokens revoked). The socket server
 * disconnects the user's sockets once it commits, so a stale connection hears nothing more.
 */
export interface SessionsRevoked {
  userId: string;
}

declare module '@trektribe/common' {
  interface DomainEvents {
    'user.sessions_revoked': SessionsRevoked;
  }
}
