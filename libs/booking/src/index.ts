export { BookingModule } from './booking.module';

export const BOOKING_ENTITIES: (new () => object)[] = [];
