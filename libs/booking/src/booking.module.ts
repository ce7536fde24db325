import { Module, OnModuleInit } from '@nestjs/common';
import { AuthModule } from '@trektribe/auth';
import { CommonModule, DomainEventType, IdempotencyInterceptor, UnitOfWork } from '@trektribe/common';
import { NotificationsModule } from '@trektribe/notifications';
import './booking.errors';
import { REQUIRED_BOOKING_HANDLERS } from './booking.events';
import { AdminListingsController } from './admin/admin-lists.controller';
import { AdminListingsService } from './admin/admin-lists.service';
import { BookingEvents } from './booking-events';
import { BookingsController } from './bookings/bookings.controller';
import { BookingHolds } from './bookings/booking-holds';
import { BookingLifecycleJobs } from './bookings/booking-lifecycle-jobs';
import { BookingPayments } from './bookings/booking-payments';
import { BookingsService } from './bookings/bookings.service';
import { OrganizerController } from './organizer.controller';
import { ReviewsService } from './reviews/reviews.service';
import { SeatInventory } from './trips/seat-inventory';
import { TripListings } from './trips/trip-listings';
import { TripsController } from './trips/trips.controller';
import { TripsService } from './trips/trips.service';
import { WaitlistService } from './waitlist/waitlist.service';

@Module({
  imports: [AuthModule, CommonModule, NotificationsModule],
  controllers: [TripsController, BookingsController, OrganizerController, AdminListingsController],
  providers: [
    TripsService,
    BookingsService,
    WaitlistService,
    ReviewsService,
    SeatInventory,
    BookingEvents,
    IdempotencyInterceptor,
    TripListings,
    BookingPayments,
    BookingLifecycleJobs,
    BookingHolds,
    AdminListingsService,
  ],
  exports: [BookingsService, TripsService, TripListings, BookingPayments, BookingLifecycleJobs],
})
export class BookingModule implements OnModuleInit {
  constructor(private readonly uow: UnitOfWork) {}

  onModuleInit(): void {
    for (const [type, why] of Object.entries(REQUIRED_BOOKING_HANDLERS))
      this.uow.requireHandler(type as DomainEventType, why);
  }
}
