-- pgbench: the hold a booking makes on the hot trip, as bare SQL (the floor for bookings.mjs).
-- One booking row, then the conditional seat update last, in one transaction; the trip, traveler
-- and organizer ids come in as -D variables with their quotes. run-all.sh (PGBENCH=1) raises the
-- trip's capacity first so every transaction takes a seat.
BEGIN;
INSERT INTO bookings (trip_id, traveler_id, organizer_id, seats, unit_price, total_amount, payment_method, hold_expires_at, cancellation_policy)
  VALUES (:trip, :traveler, :organizer, 1, 100000, 100000, 'online', now() + interval '15 minutes', '{}');
UPDATE trips SET seats_booked = seats_booked + 1, updated_at = now() WHERE id = :trip AND seats_booked + 1 <= capacity;
END;
