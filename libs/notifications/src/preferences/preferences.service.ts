import { Injectable } from '@nestjs/common';
import { DomainError, isValidTimeZone } from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';
import { isSecurityType, NOTIFICATION_TYPES, NotificationType } from '../catalog/catalog';
import '../notifications.errors';
import { NotificationPreference } from './notification-preference.entity';
import { PatchPreferencesDto } from './preferences.dto';
import { isHhMm, QuietHours } from './quiet-hours';

export const CHANNELS = ['email', 'sms', 'whatsapp', 'inApp'] as const;
export type PreferenceChannel = (typeof CHANNELS)[number];
type Switches = Partial<Record<PreferenceChannel, boolean>>;

export interface PreferencesView {
  email: boolean;
  sms: boolean;
  whatsapp: boolean;
  inApp: boolean;
  types: Record<string, Switches>;
  quietHours: QuietHours | null;
  timezone: string;
}

/**
 * What users expect without touching anything (issue 12): email and in-app on; SMS only for booking
 * confirmations and trip reminders (and only to a verified phone); WhatsApp off; quiet 22:00–07:00 IST.
 */
export const DEFAULT_PREFERENCES: PreferencesView = {
  email: true,
  sms: true,
  whatsapp: false,
  inApp: true,
  types: {},
  quietHours: { start: '22:00', end: '07:00' },
  timezone: 'Asia/Kolkata',
};
// (auth.phone_code never asks: Notifier sends it by SMS whatever the preferences.)
const SMS_BY_DEFAULT = new Set<string>(['booking.confirmed', 'trip.reminder']);

const toView = (p: NotificationPreference): PreferencesView => ({
  email: p.email,
  sms: p.sms,
  whatsapp: p.whatsapp,
  inApp: p.inApp,
  types: p.types as Record<string, Switches>,
  quietHours: p.quietStart && p.quietEnd ? { start: p.quietStart, end: p.quietEnd } : null,
  timezone: p.timezone,
});

@Injectable()
export class PreferencesService {
  constructor(private readonly dataSource: DataSource) {}

  async get(userId: string, m: EntityManager = this.dataSource.manager): Promise<PreferencesView> {
    const row = await m.findOneBy(NotificationPreference, { userId });
    return row ? toView(row) : { ...DEFAULT_PREFERENCES, types: {} };
  }

  /**
   * Merges the change into the stored preferences. 400 for an unknown type, channel or a malformed
   * window or timezone; 422 PREFERENCE_LOCKED for turning off security mail (`auth.*` email).
   */
  async patch(userId: string, dto: PatchPreferencesDto): Promise<PreferencesView> {
    const types = dto.types === undefined ? undefined : this.checkTypes(dto.types);
    const quiet = dto.quietHours === undefined ? undefined : this.checkQuietHours(dto.quietHours);
    if (dto.timezone !== undefined && !isValidTimeZone(dto.timezone)) {
      throw invalid('timezone', 'must be an IANA timezone such as Asia/Kolkata');
    }
    return this.dataSource.transaction(async (m) => {
      // One writer at a time per user: a lost update would silently undo a switch.
      const current = await m.findOne(NotificationPreference, {
        where: { userId },
        lock: { mode: 'pessimistic_write' },
      });
      const base = current ? toView(current) : { ...DEFAULT_PREFERENCES, types: {} };
      const next: PreferencesView = {
        email: dto.email ?? base.email,
        sms: dto.sms ?? base.sms,
        whatsapp: dto.whatsapp ?? base.whatsapp,
        inApp: dto.inApp ?? base.inApp,
        types: { ...base.types },
        quietHours: quiet === undefined ? base.quietHours : quiet,
        timezone: dto.timezone ?? base.timezone,
      };
      for (const [type, switches] of Object.entries(types ?? {}))
        next.types[type] = { ...next.types[type], ...switches };
      await m.upsert(
        NotificationPreference,
        {
          userId,
          email: next.email,
          sms: next.sms,
          whatsapp: next.whatsapp,
          inApp: next.inApp,
          types: next.types as Record<string, never>,
          quietStart: next.quietHours?.start ?? null,
          quietEnd: next.quietHours?.end ?? null,
          timezone: next.timezone,
        },
        ['userId'],
      );
      return next;
    });
  }

  /** Whether `type` may use `channel` for this user (the per-type switch wins; security mail always goes). */
  allows(prefs: PreferencesView, type: NotificationType, channel: PreferenceChannel): boolean {
    if (channel === 'email' && isSecurityType(type)) return true;
    const own = prefs.types[type]?.[channel];
    if (own !== undefined) return own;
    if (!prefs[channel]) return false;
    return channel === 'sms' ? SMS_BY_DEFAULT.has(type) : true;
  }

  private checkTypes(raw: Record<string, unknown>): Record<string, Switches> {
    const out: Record<string, Switches> = {};
    for (const [type, value] of Object.entries(raw)) {
      if (!(NOTIFICATION_TYPES as string[]).includes(type))
        throw invalid(`types.${type}`, 'is not a notification type');
      if (!value || typeof value !== 'object' || Array.isArray(value)) {
        throw invalid(`types.${type}`, 'must be an object of channel switches');
      }
      const switches: Switches = {};
      for (const [channel, on] of Object.entries(value as Record<string, unknown>)) {
        if (!(CHANNELS as readonly string[]).includes(channel)) {
          throw invalid(`types.${type}.${channel}`, `is not a channel (${CHANNELS.join(', ')})`);
        }
        if (typeof on !== 'boolean') throw invalid(`types.${type}.${channel}`, 'must be true or false');
        switches[channel as PreferenceChannel] = on;
      }
      if (isSecurityType(type as NotificationType) && switches.email === false) {
        throw new DomainError('PREFERENCE_LOCKED', `Security mail (${type}) cannot be turned off`);
      }
      out[type] = switches;
    }
    return out;
  }

  private checkQuietHours(raw: Record<string, unknown> | null): QuietHours | null {
    if (raw === null) return null;
    const keys = Object.keys(raw).sort().join(',');
    if (keys !== 'end,start' || !isHhMm(raw.start) || !isHhMm(raw.end)) {
      throw invalid('quietHours', 'must be {start, end} in HH:MM (24-hour), or null');
    }
    return { start: raw.start, end: raw.end };
  }
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_ERROR', `${field} ${message}`, [{ field, message }]);
}
