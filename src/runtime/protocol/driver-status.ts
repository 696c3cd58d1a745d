/**
 * The protocol driver's status word: one Int32 in shared memory, written by
 * the protocol worker and read by the main thread's dispatcher, so that the
 * main thread learns why the deliveries stopped without a control call.
 */

/** `status[0]`: 0 while running, or this: the main thread took deliveries too slowly: the node left the ring (ERR_EVS_DELIVERY_OVERFLOW). */
export const driverStatusDeliverOverflow = 1;
