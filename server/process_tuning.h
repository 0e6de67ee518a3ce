// Process-wide settings accordd makes at start-up, shared with the benchmarks that time
// the server's code paths in their own process (so both run under the same conditions).
#ifndef ACCORD_SERVER_PROCESS_TUNING_H_
#define ACCORD_SERVER_PROCESS_TUNING_H_

namespace accord::server {

// glibc malloc: serves large buffers (a long project's snapshot and state, megabytes each,
// allocated and freed per read) from memory it keeps, instead of mapping fresh pages for
// each and returning them to the kernel on free, which costs a page fault per 4 KiB on
// every read (measured: writing a 2 MB state out took 0.4–3 ms, the spread being faults).
// Keeps up to 256 MiB of freed memory for reuse.
void TuneMallocForLargeBuffers();

}  // namespace accord::server

#endif  // ACCORD_SERVER_PROCESS_TUNING_H_
