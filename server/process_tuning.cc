#include "server/process_tuning.h"

#include <malloc.h>

namespace accord::server {

void TuneMallocForLargeBuffers() {
  // Fixed thresholds (setting them turns off glibc's dynamic adjustment): blocks up to
  // 64 MiB come from the heap, and the heap's top is returned to the kernel only beyond
  // 256 MiB free.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

}  // namespace accord::server
