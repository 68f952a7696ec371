#include "ir/BlockSizes.h"

#include <algorithm>

namespace helion::ir {

bool feeds_dot(const DeviceKernel &kernel, int block) {
  return std::find(kernel.dot_blocks.begin(), kernel.dot_blocks.end(), block) !=
         kernel.dot_blocks.end();
}

std::optional<TileBlockSize> tile_block_size(const DeviceKernel &kernel, const Config &config,
                                             int block) {
  const BlockInfo &info = kernel.block(block);
  if (info.kind != BlockInfo::Kind::Tile) return std::nullopt;
  // A loop sized by a registered block size over a range of its own takes
  // that size (see passes::bind_block_sizes); its source block comes first.
  bool registered = info.size_from >= 0;
  TileBlockSize size;
  size.call = registered ? kernel.block(info.size_from).tile_call : info.tile_call;
  const TileChoice &choice = config.tiles.at(size.call);
  size.flattened = choice.flatten;
  size.size = choice.flatten ? choice.flat_block_size
                             : choice.block_sizes.at(registered ? 0 : info.dim_in_call);
  return size;
}

} // namespace helion::ir
