import { ProofEscalation } from '@trektribe/billing';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, register, SignedIn, startTestApp, TestApp } from './support/app';
import { auditRows, book, bookingRow, createTrip } from './support/fixtures';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX = 5 * 1024 * 1024;

/** A tiny "PNG": the signature and random bytes, so every call hashes differently. */
function png(extra = 64): Buffer {
  return Buffer.concat([PNG_SIGNATURE, randomBytes(extra)]);
}
function jpeg(): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(64)]);
}
function webp(): Buffer {
  const body = Buffer.concat([Buffer.from('WEBPVP8 ', 'latin1'), randomBytes(32)]);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(body.length);
  return Buffer.concat([Buffer.from('RIFF', 'latin1'), size, body]);
}
function pdf(): Buffer {
  return Buffer.from(
    `%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${randomBytes(8).toString('hex')}\ntrailer << /Root 1 0 R >>\n%%EOF\n`,
    'latin1',
  );
}

interface UploadOptions {
  filename?: string;
  contentType?: string;
  fields?: Record<string, string>;
}

describe('screenshot payment proofs', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let otherOrganizer: SignedIn;
  let traveler: SignedIn;
  let otherTraveler: SignedIn;
  let agents: SignedIn[];
  let inactiveAgent: SignedIn;
  let admin: SignedIn;
  let uploadsDir: string;

  beforeAll(async () => {
    t = await startTestApp();
    organizer = await register(t, 'organizer');
    otherOrganizer = await register(t, 'organizer');
    traveler = await register(t, 'traveler', { name: 'Asha Rao' });
    otherTraveler = await register(t, 'traveler');
    agents = [await createStaff(t, 'agent'), await createStaff(t, 'agent')];
    inactiveAgent = await createStaff(t, 'agent');
    await t.db.query(`UPDATE users SET is_active = false WHERE id = $1`, [inactiveAgent.id]);
    admin = await createStaff(t, 'admin');
    uploadsDir = join(t.config.dataDir, 'uploads', 'proofs');
  }, 90_000);
  afterAll(async () => t?.close());

  function upload(user: SignedIn, bookingId: string, bytes: Buffer, opts: UploadOptions = {}) {
    let req = t.http.post(`/api/v1/bookings/${bookingId}/payment-proof`).set(user.auth);
    for (const [k, v] of Object.entries(opts.fields ?? {})) req = req.field(k, v);
    return req.attach('file', bytes, {
      filename: opts.filename ?? 'payment.png',
      contentType: opts.contentType ?? 'image/png',
    });
  }

  function verify(user: SignedIn, bookingId: string, body: Record<string, unknown>) {
    return t.http.post(`/api/v1/bookings/${bookingId}/verify-payment`).set(user.auth).send(body);
  }

  function storedFiles(): string[] {
    return existsSync(uploadsDir) ? readdirSync(uploadsDir).sort() : [];
  }

  async function proofRows(bookingId: string): Promise<Record<string, any>[]> {
    return t.db.query(`SELECT * FROM payment_proofs WHERE booking_id = $1 ORDER BY created_at, id`, [
      bookingId,
    ]);
  }

  async function screenshotBooking(
    org = organizer,
    who = traveler,
    tripOverrides: Record<string, unknown> = {},
  ) {
    const trip = await createTrip(t, org, { capacity: 10, ...tripOverrides });
    const booking = await book(t, who, trip.id, 2, 'screenshot');
    return { trip, booking };
  }

  it('happy path: a PNG upload pauses the hold, lands on disk under a random name, and approval confirms the booking with a payment row', async () => {
    const { booking } = await screenshotBooking();
    expect(booking.holdExpiresAt).not.toBeNull();
    const bytes = png();

    const res = await upload(traveler, booking.id, bytes, {
      filename: '../../etc/passwd.png',
      fields: { upiReference: 'utr-4123456789' },
    }).expect(201);
    const proof = res.body.data;
    expect(proof).toMatchObject({
      bookingId: booking.id,
      status: 'pending',
      mimeType: 'image/png',
      sizeBytes: bytes.length,
      upiReference: 'UTR-4123456789',
    });
    expect(proof.booking).toMatchObject({
      status: 'pending',
      paymentStatus: 'awaiting_verification',
      holdExpiresAt: null,
    });
    expect(proof).not.toHaveProperty('flaggedDuplicate'); // fraud signals are for the organizer

    const seen = (await t.http.get(`/api/v1/bookings/${booking.id}`).set(traveler.auth).expect(200)).body
      .data;
    expect(seen.holdExpiresAt).toBeNull();
    expect(seen.paymentStatus).toBe('awaiting_verification');

    // stored under DATA_DIR/uploads with a random name, owner-only, byte for byte
    const [row] = await proofRows(booking.id);
    expect(row.storage_name).toMatch(/^[0-9a-f]{32}\.png$/);
    expect(row.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(row.flagged_duplicate).toBe(false);
    const path = join(uploadsDir, row.storage_name);
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(storedFiles().some((f) => f.includes('passwd'))).toBe(false);

    // audit, and the organizer is told (live and by email)
    expect((await auditRows(t, row.id, 'payment_proof.uploaded')).length).toBe(1);
    const [mail] = await t.db.query(
      `SELECT recipient, subject, body FROM notification_outbox WHERE dedupe_key = $1`,
      [`proof-submitted:${row.id}`],
    );
    expect(mail.recipient).toBe(organizer.email);
    expect(mail.subject).toMatch(/awaits your verification/);
    // The in-app item, and its `notification` socket event to the organizer.
    const [inApp] = await t.db.query(`SELECT id, type, data FROM notifications WHERE dedupe_key = $1`, [
      `proof-submitted:${row.id}`,
    ]);
    expect(inApp).toMatchObject({
      type: 'payment.proof_submitted',
      data: { bookingId: booking.id, proofId: row.id },
    });
    const live = await t.db.query(
      `SELECT payload FROM notification_outbox WHERE channel = 'realtime' AND topic = 'notification' AND recipient = $1 AND payload->>'id' = $2`,
      [`user:${organizer.id}`, inApp.id],
    );
    expect(live).toHaveLength(1);
    expect(live[0].payload).toMatchObject({ type: 'payment.proof_submitted', title: mail.subject });

    // organizer's queue
    const queue = await t.http.get('/api/v1/organizer/pending-verifications').set(organizer.auth).expect(200);
    const item = queue.body.data.find((p: { proofId: string }) => p.proofId === row.id);
    expect(item).toMatchObject({
      bookingId: booking.id,
      travelerName: 'Asha Rao',
      amount: booking.totalAmount,
      flaggedDuplicate: false,
    });
    expect(item.uploadedAt).toBeTruthy();

    // the file, for the traveler, the organizer and an admin
    for (const who of [traveler, organizer, admin, agents[0]]) {
      const file = await t.http
        .get(`/api/v1/bookings/${booking.id}/payment-proof/file`)
        .set(who.auth)
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        })
        .expect(200);
      expect(file.headers['content-type']).toBe('image/png');
      expect(file.headers['content-disposition']).toMatch(/^inline/);
      expect(file.headers['x-content-type-options']).toBe('nosniff');
      expect((file.body as Buffer).equals(bytes)).toBe(true);
    }
    const meta = await t.http
      .get(`/api/v1/bookings/${booking.id}/payment-proof`)
      .set(organizer.auth)
      .expect(200);
    expect(meta.body.data).toMatchObject({ id: row.id, status: 'pending', flaggedDuplicate: false });

    // a second upload while one is pending: 409, nothing stored
    const before = storedFiles();
    const again = await upload(traveler, booking.id, png()).expect(409);
    expect(again.body.error.code).toBe('DUPLICATE_PROOF');
    expect(storedFiles()).toEqual(before);

    // approve
    const approved = await verify(organizer, booking.id, { approve: true, note: 'Received in HDFC' }).expect(
      200,
    );
    expect(approved.body.data).toMatchObject({
      outcome: 'confirmed',
      refund: null,
      booking: { status: 'confirmed', paymentStatus: 'paid', holdExpiresAt: null },
    });
    expect(approved.body.data.proof).toMatchObject({
      status: 'approved',
      reviewNote: 'Received in HDFC',
      reviewedBy: organizer.id,
    });
    const b = await bookingRow(t, booking.id);
    expect(b.status).toBe('confirmed');
    expect(b.payment_status).toBe('paid');
    const payments = await t.db.query(`SELECT * FROM payments WHERE booking_id = $1`, [booking.id]);
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({
      method: 'screenshot',
      status: 'captured',
      amount: booking.totalAmount,
      payer_id: traveler.id,
    });
    expect(payments[0].captured_at).not.toBeNull();
    expect((await auditRows(t, row.id, 'payment_proof.approved')).length).toBe(1);
    expect((await auditRows(t, booking.id, 'booking.confirmed')).length).toBe(1);

    // double approve: 409, still one payment
    const twice = await verify(organizer, booking.id, { approve: true }).expect(409);
    expect(twice.body.error.code).toBe('NO_PENDING_PROOF');
    expect(await t.db.query(`SELECT id FROM payments WHERE booking_id = $1`, [booking.id])).toHaveLength(1);
    const after = await t.http.get('/api/v1/organizer/pending-verifications').set(organizer.auth).expect(200);
    expect(after.body.data.some((p: { proofId: string }) => p.proofId === row.id)).toBe(false);

    // confirmed now: no more proofs
    expect((await upload(traveler, booking.id, png()).expect(409)).body.error.code).toBe(
      'BOOKING_NOT_PAYABLE',
    );
  });

  it('reject path: the traveler is told why, the hold resumes for 24 h, and a new proof can be uploaded', async () => {
    const { booking } = await screenshotBooking();
    const first = await upload(traveler, booking.id, jpeg(), {
      filename: 'shot.jpg',
      contentType: 'image/jpeg',
    }).expect(201);
    expect(first.body.data.mimeType).toBe('image/jpeg');

    const now = t.clock.now().getTime();
    const rejected = await verify(organizer, booking.id, {
      approve: false,
      note: 'Amount does not match our statement',
    }).expect(200);
    expect(rejected.body.data.proof).toMatchObject({
      status: 'rejected',
      reviewNote: 'Amount does not match our statement',
    });
    const b = await bookingRow(t, booking.id);
    expect(b.status).toBe('pending');
    expect(b.payment_status).toBe('unpaid');
    const holdMs = new Date(b.hold_expires_at).getTime() - now;
    expect(holdMs).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(holdMs).toBeLessThan(24 * 3_600_000 + 60_000);
    expect(await t.db.query(`SELECT id FROM payments WHERE booking_id = $1`, [booking.id])).toHaveLength(0);

    const [mail] = await t.db.query(`SELECT recipient, body FROM notification_outbox WHERE dedupe_key = $1`, [
      `proof-rejected:${first.body.data.id}`,
    ]);
    expect(mail.recipient).toBe(traveler.email);
    expect(mail.body).toContain('Amount does not match our statement');
    expect((await auditRows(t, first.body.data.id, 'payment_proof.rejected')).length).toBe(1);

    // rejecting again: nothing pending
    expect((await verify(organizer, booking.id, { approve: false }).expect(409)).body.error.code).toBe(
      'NO_PENDING_PROOF',
    );

    // a fresh proof, a PDF this time
    const second = await upload(traveler, booking.id, pdf(), {
      filename: 'statement.pdf',
      contentType: 'application/pdf',
    }).expect(201);
    expect(second.body.data).toMatchObject({ status: 'pending', mimeType: 'application/pdf' });
    expect((await bookingRow(t, booking.id)).hold_expires_at).toBeNull();
    const latest = await t.http
      .get(`/api/v1/bookings/${booking.id}/payment-proof`)
      .set(traveler.auth)
      .expect(200);
    expect(latest.body.data.id).toBe(second.body.data.id);
    const file = await t.http
      .get(`/api/v1/bookings/${booking.id}/payment-proof/file`)
      .set(traveler.auth)
      .expect(200);
    expect(file.headers['content-type']).toBe('application/pdf');
    expect((await proofRows(booking.id)).map((r) => r.status)).toEqual(['rejected', 'pending']);
  });

  it('judges the file by its bytes: a text file named .png, an SVG or an EXE is 415, and nothing is stored', async () => {
    const { booking } = await screenshotBooking();
    const before = storedFiles();
    const fakes: [Buffer, string, string][] = [
      [Buffer.from('this is not an image, just text pretending to be one'), 'receipt.png', 'image/png'],
      [
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        'receipt.svg',
        'image/svg+xml',
      ],
      [Buffer.concat([Buffer.from('MZ'), randomBytes(200)]), 'receipt.jpg', 'image/jpeg'],
      [Buffer.from('GIF89a' + 'x'.repeat(40)), 'receipt.gif', 'image/gif'],
      [Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt ', 'latin1'), 'receipt.webp', 'image/webp'],
    ];
    for (const [bytes, filename, contentType] of fakes) {
      const res = await upload(traveler, booking.id, bytes, { filename, contentType }).expect(415);
      expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(storedFiles()).toEqual(before);
    expect(await proofRows(booking.id)).toHaveLength(0);
    const b = await bookingRow(t, booking.id);
    expect(b.payment_status).toBe('unpaid');
    expect(b.hold_expires_at).not.toBeNull();

    // a real WebP sent as application/octet-stream is accepted: content decides, not the label
    const ok = await upload(traveler, booking.id, webp(), {
      filename: 'blob',
      contentType: 'application/octet-stream',
    }).expect(201);
    expect(ok.body.data.mimeType).toBe('image/webp');
    expect((await proofRows(booking.id))[0].storage_name).toMatch(/^[0-9a-f]{32}\.webp$/);
  });

  it('validates the request: missing file 400, bad UPI reference 400, unknown field 400, empty file 400', async () => {
    const { booking } = await screenshotBooking();
    const before = storedFiles();
    const missing = await t.http
      .post(`/api/v1/bookings/${booking.id}/payment-proof`)
      .set(traveler.auth)
      .field('upiReference', 'ABC123456')
      .expect(400);
    expect(missing.body.error.code).toBe('VALIDATION_ERROR');
    expect(missing.body.error.details[0].field).toBe('file');
    const noBody = await t.http
      .post(`/api/v1/bookings/${booking.id}/payment-proof`)
      .set(traveler.auth)
      .send({})
      .expect(400);
    expect(noBody.body.error.code).toBe('VALIDATION_ERROR');
    for (const upiReference of ['12345', 'x'.repeat(65), 'ref with spaces', "1234'; DROP"]) {
      const res = await upload(traveler, booking.id, png(), { fields: { upiReference } }).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    const unknown = await upload(traveler, booking.id, png(), { fields: { status: 'approved' } }).expect(400);
    expect(unknown.body.error.code).toBe('VALIDATION_ERROR');
    expect((await upload(traveler, booking.id, Buffer.alloc(0)).expect(400)).body.error.code).toBe(
      'VALIDATION_ERROR',
    );
    const wrongField = await t.http
      .post(`/api/v1/bookings/${booking.id}/payment-proof`)
      .set(traveler.auth)
      .attach('image', png(), 'a.png')
      .expect(400);
    expect(wrongField.body.success).toBe(false);
    const twoFiles = await t.http
      .post(`/api/v1/bookings/${booking.id}/payment-proof`)
      .set(traveler.auth)
      .attach('file', png(), 'a.png')
      .attach('file', png(), 'b.png')
      .expect(400);
    expect(twoFiles.body.success).toBe(false);
    expect(storedFiles()).toEqual(before);
    expect(await proofRows(booking.id)).toHaveLength(0);
    // organizers do not upload
    expect((await upload(organizer, booking.id, png()).expect(403)).body.error.code).toBe('FORBIDDEN');
  });

  it('over 5 MB is 413 with nothing stored; exactly 5 MB is accepted', async () => {
    const { booking } = await screenshotBooking();
    const before = storedFiles();
    const tooBig = Buffer.concat([PNG_SIGNATURE, Buffer.alloc(MAX + 1 - PNG_SIGNATURE.length, 7)]);
    expect(tooBig.length).toBe(MAX + 1);
    const res = await upload(traveler, booking.id, tooBig).expect(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(storedFiles()).toEqual(before);
    expect(await proofRows(booking.id)).toHaveLength(0);
    expect((await bookingRow(t, booking.id)).payment_status).toBe('unpaid');

    const exactly = Buffer.concat([PNG_SIGNATURE, randomBytes(MAX - PNG_SIGNATURE.length)]);
    const ok = await upload(traveler, booking.id, exactly).expect(201);
    expect(ok.body.data.sizeBytes).toBe(MAX);
    expect(storedFiles()).toHaveLength(before.length + 1);
  });

  it('removes the stored file when the booking refuses the proof (not visible, paid online, expired hold)', async () => {
    const before = storedFiles();
    const { trip, booking } = await screenshotBooking();
    // another traveler's booking: 404, as if absent
    expect((await upload(otherTraveler, booking.id, png()).expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await upload(traveler, randomUUID(), png()).expect(404)).body.error.code).toBe('NOT_FOUND');
    // an online booking takes no screenshot
    const online = await book(t, traveler, trip.id, 1, 'online');
    expect((await upload(traveler, online.id, png()).expect(409)).body.error.code).toBe(
      'WRONG_PAYMENT_METHOD',
    );
    // a hold past its expiry (not yet swept) takes no proof either
    await t.db.query(`UPDATE bookings SET hold_expires_at = $2 WHERE id = $1`, [
      booking.id,
      new Date(t.clock.now().getTime() - 60_000),
    ]);
    expect((await upload(traveler, booking.id, png()).expect(409)).body.error.code).toBe('HOLD_EXPIRED');
    expect(storedFiles()).toEqual(before);
    expect(
      await t.db.query(`SELECT id FROM payment_proofs WHERE booking_id = ANY($1::uuid[])`, [
        [booking.id, online.id],
      ]),
    ).toHaveLength(0);
  });

  it('two uploads at once for one booking: one is accepted, the other is 409, one file kept', async () => {
    const { booking } = await screenshotBooking();
    const before = storedFiles();
    const results = await Promise.all([
      upload(traveler, booking.id, png()),
      upload(traveler, booking.id, png()),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await proofRows(booking.id)).toHaveLength(1);
    expect(storedFiles()).toHaveLength(before.length + 1);
  });

  it('only the trip organizer verifies, and only the traveler, the organizer and staff read the proof', async () => {
    const { booking } = await screenshotBooking();
    await upload(traveler, booking.id, png()).expect(201);

    const wrong = await verify(otherOrganizer, booking.id, { approve: true }).expect(404);
    expect(wrong.body.error.code).toBe('NOT_FOUND');
    for (const who of [otherOrganizer, otherTraveler]) {
      expect(
        (await t.http.get(`/api/v1/bookings/${booking.id}/payment-proof/file`).set(who.auth).expect(404)).body
          .error.code,
      ).toBe('NOT_FOUND');
      expect(
        (await t.http.get(`/api/v1/bookings/${booking.id}/payment-proof`).set(who.auth).expect(404)).body
          .error.code,
      ).toBe('NOT_FOUND');
    }
    expect((await verify(traveler, booking.id, { approve: true }).expect(403)).body.error.code).toBe(
      'FORBIDDEN',
    );
    expect((await verify(agents[0], booking.id, { approve: true }).expect(403)).body.error.code).toBe(
      'FORBIDDEN',
    );
    await t.http.get(`/api/v1/bookings/${booking.id}/payment-proof/file`).expect(401);
    // verify-payment body is validated
    expect((await verify(organizer, booking.id, { approve: 'yes' }).expect(400)).body.error.code).toBe(
      'VALIDATION_ERROR',
    );
    expect(
      (await verify(organizer, booking.id, { approve: true, note: 'x'.repeat(501) }).expect(400)).body.error
        .code,
    ).toBe('VALIDATION_ERROR');
    expect(
      (await verify(organizer, booking.id, { approve: true, amount: 1 }).expect(400)).body.error.code,
    ).toBe('VALIDATION_ERROR');
    // nothing changed
    expect((await proofRows(booking.id))[0].status).toBe('pending');
    expect(await t.db.query(`SELECT id FROM payments WHERE booking_id = $1`, [booking.id])).toHaveLength(0);

    // an admin may decide; a retried decision with the same Idempotency-Key replays the first answer
    const key = `approve-${booking.id}`;
    const ok = await verify(admin, booking.id, { approve: true }).set('Idempotency-Key', key).expect(200);
    expect(ok.body.data.booking.status).toBe('confirmed');
    const replay = await verify(admin, booking.id, { approve: true }).set('Idempotency-Key', key).expect(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.data.paymentId).toBe(ok.body.data.paymentId);
    expect(await t.db.query(`SELECT id FROM payments WHERE booking_id = $1`, [booking.id])).toHaveLength(1);
  });

  it('flags the same image, or the same UPI reference, used on another booking and tells the organizer', async () => {
    const image = png();
    const a = await screenshotBooking();
    const first = await upload(traveler, a.booking.id, image).expect(201);
    expect((await proofRows(a.booking.id))[0].flagged_duplicate).toBe(false);

    const b = await screenshotBooking(organizer, otherTraveler);
    await upload(otherTraveler, b.booking.id, image, { filename: 'other-name.png' }).expect(201);
    const [row] = await proofRows(b.booking.id);
    expect(row.flagged_duplicate).toBe(true);
    expect(row.duplicate_of_booking_id).toBe(a.booking.id);
    const [mail] = await t.db.query(`SELECT body FROM notification_outbox WHERE dedupe_key = $1`, [
      `proof-submitted:${row.id}`,
    ]);
    expect(mail.body).toMatch(/same image was already used for another booking/);
    const queue = await t.http.get('/api/v1/organizer/pending-verifications').set(organizer.auth).expect(200);
    expect(queue.body.data.find((p: { proofId: string }) => p.proofId === row.id)).toMatchObject({
      flaggedDuplicate: true,
      duplicateOfBookingId: a.booking.id,
    });
    const travelerView = await t.http
      .get(`/api/v1/bookings/${b.booking.id}/payment-proof`)
      .set(otherTraveler.auth)
      .expect(200);
    expect(travelerView.body.data).not.toHaveProperty('flaggedDuplicate');
    expect(travelerView.body.data).not.toHaveProperty('duplicateOfBookingId');

    // reused on another organizer's trip: that organizer is warned, but never shown the first booking's id
    const e = await screenshotBooking(otherOrganizer, otherTraveler);
    await upload(otherTraveler, e.booking.id, image, { filename: 'again.png' }).expect(201);
    const [foreign] = await proofRows(e.booking.id);
    expect(foreign).toMatchObject({ flagged_duplicate: true, duplicate_of_booking_id: a.booking.id });
    const [warned] = await t.db.query(`SELECT body FROM notification_outbox WHERE dedupe_key = $1`, [
      `proof-submitted:${foreign.id}`,
    ]);
    expect(warned.body).toMatch(/same image was already used for a booking on another organizer's trip/);
    expect(warned.body).not.toContain(a.booking.id);
    const otherQueue = await t.http
      .get('/api/v1/organizer/pending-verifications')
      .set(otherOrganizer.auth)
      .expect(200);
    expect(otherQueue.body.data.find((p: { proofId: string }) => p.proofId === foreign.id)).toMatchObject({
      flaggedDuplicate: true,
      duplicateOfBookingId: null,
    });
    const orgView = await t.http
      .get(`/api/v1/bookings/${e.booking.id}/payment-proof`)
      .set(otherOrganizer.auth)
      .expect(200);
    expect(orgView.body.data).toMatchObject({ flaggedDuplicate: true, duplicateOfBookingId: null });
    const adminView = await t.http
      .get(`/api/v1/bookings/${e.booking.id}/payment-proof`)
      .set(admin.auth)
      .expect(200);
    expect(adminView.body.data).toMatchObject({ flaggedDuplicate: true, duplicateOfBookingId: a.booking.id });
    const rejected = await verify(otherOrganizer, e.booking.id, {
      approve: false,
      note: 'not in our account',
    }).expect(200);
    expect(rejected.body.data.proof).toMatchObject({ flaggedDuplicate: true, duplicateOfBookingId: null });

    // same UPI reference (any case), different image
    const c = await screenshotBooking();
    await t.db.query(`UPDATE payment_proofs SET upi_reference = 'UTR998877665' WHERE id = $1`, [
      first.body.data.id,
    ]);
    await upload(traveler, c.booking.id, png(), { fields: { upiReference: 'utr998877665' } }).expect(201);
    const [byRef] = await proofRows(c.booking.id);
    expect(byRef).toMatchObject({ flagged_duplicate: true, duplicate_of_booking_id: a.booking.id });

    // a booking re-uploading its own image after a rejection is not a duplicate
    const d = await screenshotBooking();
    const own = png();
    await upload(traveler, d.booking.id, own).expect(201);
    await verify(organizer, d.booking.id, { approve: false, note: 'blurry' }).expect(200);
    await upload(traveler, d.booking.id, own).expect(201);
    expect((await proofRows(d.booking.id)).map((r) => r.flagged_duplicate)).toEqual([false, false]);
  });

  it('approving after the booking was cancelled records the money and a manual refund of the full amount', async () => {
    const { booking } = await screenshotBooking();
    const up = await upload(traveler, booking.id, png()).expect(201);
    await t.http
      .post(`/api/v1/bookings/${booking.id}/cancel`)
      .set(traveler.auth)
      .send({ reason: 'plans changed' })
      .expect(200);

    const res = await verify(organizer, booking.id, { approve: true }).expect(200);
    expect(res.body.data.outcome).toBe('booking_cancelled');
    expect(res.body.data.refund).toMatchObject({ amount: booking.totalAmount, status: 'manual_due' });
    const [payment] = await t.db.query(`SELECT * FROM payments WHERE booking_id = $1`, [booking.id]);
    expect(payment).toMatchObject({ method: 'screenshot', status: 'captured', amount: booking.totalAmount });
    const refunds = await t.db.query(`SELECT * FROM refunds WHERE booking_id = $1`, [booking.id]);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({
      status: 'manual_due',
      amount: booking.totalAmount,
      idempotency_key: `proof_${up.body.data.id}`,
      payment_id: payment.id,
    });
    const b = await bookingRow(t, booking.id);
    expect(b.status).toBe('cancelled');
    expect(b.payment_status).toBe('refund_pending');
    const [mail] = await t.db.query(`SELECT recipient FROM notification_outbox WHERE dedupe_key = $1`, [
      `proof-refund-due:${up.body.data.id}`,
    ]);
    expect(mail.recipient).toBe(traveler.email);
  });

  it("lists the organizer's pending proofs oldest first, paged, and only on their own trips", async () => {
    const org = await register(t, 'organizer');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { booking } = await screenshotBooking(org, traveler);
      await upload(traveler, booking.id, png()).expect(201);
      ids.push(booking.id);
      t.clock.advance(1_000);
    }
    const mine = await screenshotBooking(otherOrganizer, traveler);
    await upload(traveler, mine.booking.id, png()).expect(201);

    const p1 = await t.http.get('/api/v1/organizer/pending-verifications?limit=2').set(org.auth).expect(200);
    expect(p1.body.meta).toEqual({ page: 1, limit: 2, total: 3 });
    expect(p1.body.data.map((p: { bookingId: string }) => p.bookingId)).toEqual(ids.slice(0, 2));
    const p2 = await t.http
      .get('/api/v1/organizer/pending-verifications?limit=2&page=2')
      .set(org.auth)
      .expect(200);
    expect(p2.body.data.map((p: { bookingId: string }) => p.bookingId)).toEqual(ids.slice(2));
    await t.http.get('/api/v1/organizer/pending-verifications?limit=101').set(org.auth).expect(400);
    await t.http.get('/api/v1/organizer/pending-verifications').set(traveler.auth).expect(403);
  });

  it('escalates a proof left unverified for 24 h to the support desk: one ticket per booking', async () => {
    const svc = t.app.get(ProofEscalation);
    const { booking } = await screenshotBooking();
    const up = await upload(traveler, booking.id, png()).expect(201);
    const proofId: string = up.body.data.id;
    const escalationTickets = async (bookingId = booking.id) =>
      t.db.query(
        `SELECT id, customer_id, category, status, source_key FROM support_tickets WHERE booking_id = $1`,
        [bookingId],
      );
    const escalationEvents = async () =>
      t.db.query(
        `SELECT recipient, payload FROM notification_outbox WHERE channel = 'realtime' AND topic = 'proof.escalated' AND payload->>'proofId' = $1`,
        [proofId],
      );

    try {
      await svc.escalateStaleProofs();
      expect(await escalationTickets()).toHaveLength(0);
      t.clock.advance(23 * 3_600_000);
      await svc.escalateStaleProofs();
      expect(await escalationTickets()).toHaveLength(0);

      t.clock.advance(2 * 3_600_000); // 25 h after the upload
      const [first, second] = [await svc.escalateStaleProofs(), await svc.escalateStaleProofs()];
      expect(first).toBeGreaterThanOrEqual(1);
      expect(second).toBe(0);
      const tickets = await escalationTickets();
      expect(tickets).toEqual([
        expect.objectContaining({
          customer_id: traveler.id,
          category: 'payment',
          status: 'open',
          source_key: `proof-stale:${booking.id}`,
        }),
      ]);
      // the traveler sees it, with the platform's explanation; agents get no email any more
      const mine = await t.http
        .get(`/api/v1/support/tickets/${tickets[0].id}`)
        .set(traveler.auth)
        .expect(200);
      expect(mine.body.data).toMatchObject({
        openedBySystem: true,
        bookingId: booking.id,
        category: 'payment',
      });
      expect(mine.body.data.messages).toEqual([
        expect.objectContaining({
          authorId: null,
          authorRole: 'system',
          body: expect.stringContaining('24 hours'),
        }),
      ]);
      const agentMails = await t.db.query(
        `SELECT 1 FROM notification_outbox WHERE channel = 'email' AND recipient = ANY($1) AND topic NOT LIKE 'auth.%'`,
        [agents.map((a) => a.email)],
      );
      expect(agentMails).toHaveLength(0);
      const events = await escalationEvents();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        recipient: 'role:agent',
        payload: { bookingId: booking.id, proofId },
      });
      const [row] = await proofRows(booking.id);
      expect(row.escalated_at).not.toBeNull();
      expect((await auditRows(t, proofId, 'payment_proof.escalated')).length).toBe(1);
      const queue = await t.http
        .get('/api/v1/organizer/pending-verifications?limit=100')
        .set(organizer.auth)
        .expect(200);
      expect(queue.body.data.find((p: { proofId: string }) => p.proofId === proofId).escalated).toBe(true);

      // a verified proof is never escalated
      const other = await screenshotBooking();
      await upload(traveler, other.booking.id, png()).expect(201);
      await verify(organizer, other.booking.id, { approve: true }).expect(200);
      t.clock.advance(25 * 3_600_000);
      await svc.escalateStaleProofs();
      expect((await proofRows(other.booking.id))[0].escalated_at).toBeNull();
      expect(await escalationTickets(other.booking.id)).toHaveLength(0);
    } finally {
      t.clock.reset();
    }
  });
});
