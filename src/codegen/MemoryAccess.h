#pragma once

// How the kernel reads and writes its tensors: the indexing style of each
// access (pointers, block pointers or tensor descriptors: the config's choice
// where the access allows it, else the next simpler one), the descriptors
// made once at the top of the kernel, pointer arithmetic and masks, and the
// text of loads, stores and atomics with their eviction policies.

#include "codegen/DeviceContext.h"
#include "codegen/ExprTree.h"
#include "ir/Ir.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace helion::codegen {

class MemoryAccess {
public:
  explicit MemoryAccess(DeviceContext &ctx) : ctx_(ctx) {}

  /// Creates the tensor descriptors the kernel's accesses use, once, at the
  /// top of the kernel: creating one writes it to global memory, which is too
  /// slow to repeat in loops.
  void emit_descriptors();
  /// The value a Load node reads.
  Expr load(const ir::Node &n);
  /// The old values an Atomic node reads back.
  Expr atomic(const ir::Node &n);
  /// A Store statement, atomic or not.
  void emit_store(const ir::Stmt &s);

private:
  using Access = std::pair<int, const std::vector<ir::IndexItem> *>;
  struct PointerAndMask {
    Expr pointer;
    Expr mask; ///< null where every lane is in bounds
  };

  int addressed_block(const ir::IndexItem &item) const;
  bool has_unit_blocks(const std::vector<ir::IndexItem> &index) const;
  std::string access_style(int tensor, const std::vector<ir::IndexItem> &index, int memory_op);
  std::string style_for_access(int tensor, const std::vector<ir::IndexItem> &index,
                               const std::string &want);
  bool descriptor_scratch_fits() const;
  bool atomic_through_descriptor(const ir::Stmt &s);
  void emit_atomic_descriptors(const std::vector<ir::Stmt> &body);
  void collect_accesses(const std::vector<ir::Stmt> &body, std::vector<Access> &out);
  Expr make_descriptor(int tensor, const std::vector<ir::IndexItem> &index);
  Expr make_block_ptr(int tensor, const std::vector<ir::IndexItem> &index);

  Expr sizes_list(const std::vector<SymInt> &values);
  Expr block_shape(const std::vector<ir::IndexItem> &index) const;
  Expr block_offsets(const std::vector<ir::IndexItem> &index) const;
  Expr boundary_dims(const std::vector<ir::IndexItem> &index) const;
  PointerAndMask pointer_and_mask(int tensor, const std::vector<ir::IndexItem> &index);
  Expr with_extra_mask(Expr mask, int extra, const std::vector<ir::Dim> &dims);
  std::vector<std::pair<std::string, Expr>> eviction_keyword(const ir::Node &n) const;
  Expr block_load(const ir::Node &n, const std::string &style);
  static Expr sem_keyword(ir::MemorySem sem);

  DeviceContext &ctx_;
  std::map<int, int> access_tensor_;
  std::map<int, std::string> descriptors_;        ///< memory op -> its tensor descriptor
  std::map<int, std::string> atomic_descriptors_; ///< atomic op -> its tensor descriptor
};

} // namespace helion::codegen
