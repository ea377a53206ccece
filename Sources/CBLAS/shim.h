// Debian/Ubuntu's libopenblas-dev installs cblas.h (with openblas_set_num_threads) on the default include path.
#include <cblas.h>
