#pragma once

#include "config/Config.h"
#include "ir/Ir.h"

namespace helion::passes {

/// Turns `x[i] = torch.where(m, v, x[i])`, a store of a select between a new
/// value and what the same subscript of the same tensor held (read in the
/// same region, with nothing between the read and the store that may write
/// memory), into a store of `v` masked by `m`. Lanes where `m` is false are
/// then not written at all: that saves the read, and where lanes of one
/// store share an address (an index tensor pointing the lanes `m` turns off
/// at a row another lane writes), it keeps them from writing the old value
/// over that lane's result, which lane wins being unspecified. The read and
/// the select go when nothing else uses them.
ir::DeviceKernel masked_stores(const ir::DeviceKernel &kernel, const Config &config);

} // namespace helion::passes
