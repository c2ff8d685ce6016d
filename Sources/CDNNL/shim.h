// oneDNN (Debian's libdnnl-dev, OpenMP runtime) and the two OpenMP calls that set its thread count.
#include <oneapi/dnnl/dnnl.h>
int omp_get_max_threads(void);
void omp_set_num_threads(int num_threads);
