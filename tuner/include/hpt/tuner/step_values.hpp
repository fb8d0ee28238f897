#pragma once
// A trial's intermediate values: step -> value, sorted by step, in chunks of at most 1,024
// entries (16 bytes a step: std::map's nodes took 190 bytes a step over a study's copies, 115 MB
// for a worker's 600,000 steps). Steps in order append in O(1); a step out of order (a worker
// reporting backwards, or rows read in any order) costs O(log n + 1,024), never O(n). The part of
// std::map's interface the code uses, with its meaning: a step is held once, emplace keeps the
// first value, iteration goes by increasing step.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <type_traits>
#include <utility>
#include <vector>

namespace hpt {

class StepValues {
 public:
  using value_type = std::pair<int64_t, double>;
  using Chunk = std::vector<value_type>;

  // A bidirectional iterator over the chunks' entries, in step order.
  template <bool Const>
  class Iterator {
   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = StepValues::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<Const, const value_type*, value_type*>;
    using reference = std::conditional_t<Const, const value_type&, value_type&>;
    using Chunks = std::conditional_t<Const, const std::vector<Chunk>, std::vector<Chunk>>;

    Iterator() = default;
    Iterator(Chunks* chunks, size_t chunk, size_t index)
        : m_chunks(chunks), m_chunk(chunk), m_index(index) {}
    operator Iterator<true>() const { return {m_chunks, m_chunk, m_index}; }  // NOLINT

    reference operator*() const { return (*m_chunks)[m_chunk][m_index]; }
    pointer operator->() const { return &(*m_chunks)[m_chunk][m_index]; }
    Iterator& operator++() {
      if (++m_index == (*m_chunks)[m_chunk].size()) {
        ++m_chunk;
        m_index = 0;
      }
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    Iterator& operator--() {
      if (m_index == 0) {
        m_index = (*m_chunks)[--m_chunk].size();
      }
      --m_index;
      return *this;
    }
    Iterator operator--(int) {
      Iterator before = *this;
      --*this;
      return before;
    }
    bool operator==(const Iterator& o) const {
      return m_chunk == o.m_chunk && m_index == o.m_index;
    }
    bool operator!=(const Iterator& o) const { return !(*this == o); }

   private:
    friend class StepValues;
    Chunks* m_chunks = nullptr;
    size_t m_chunk = 0;  // end(): one past the last chunk, index 0.
    size_t m_index = 0;
  };
  using iterator = Iterator<false>;
  using const_iterator = Iterator<true>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  StepValues() = default;
  // As std::map's: of repeated steps, the first is kept.
  StepValues(std::initializer_list<value_type> items);

  bool empty() const { return m_size == 0; }
  size_t size() const { return m_size; }
  void clear();

  iterator begin() { return {&m_chunks, 0, 0}; }
  iterator end() { return {&m_chunks, m_chunks.size(), 0}; }
  const_iterator begin() const { return {&m_chunks, 0, 0}; }
  const_iterator end() const { return {&m_chunks, m_chunks.size(), 0}; }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }

  // The first entry whose step is not below step.
  const_iterator lower_bound(int64_t step) const;
  const_iterator find(int64_t step) const;
  size_t count(int64_t step) const { return find(step) != end() ? 1 : 0; }
  // The value at step; std::out_of_range when there is none.
  double at(int64_t step) const;
  // The value at step, inserted as 0.0 when there is none.
  double& operator[](int64_t step);
  // Inserts (step, value) unless step is held: then nothing changes. True if inserted.
  bool emplace(int64_t step, double value);
  // Removes step; how many were removed (0 or 1).
  size_t erase(int64_t step);

  // As std::map's: the same steps with equal values (a NaN value equals nothing).
  bool operator==(const StepValues& o) const;
  bool operator!=(const StepValues& o) const { return !(*this == o); }

 private:
  // Where step is or would go: its chunk and index (chunk == size() when there is none yet).
  std::pair<size_t, size_t> locate(int64_t step) const;
  // Inserts at a place locate() gave, splitting a chunk that grows past its limit.
  value_type& insert_at(std::pair<size_t, size_t> at, int64_t step, double value);

  std::vector<Chunk> m_chunks;  // None empty; steps increasing across and within chunks.
  size_t m_size = 0;
};

}  // namespace hpt
