package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// step decodes one opcode; done is true after STOP.
func (m *machine) step(code byte) (done bool, err error) {
	switch code {
	case opProto:
		v, err := m.u8()
		if err != nil {
			return false, err
		}
		if v > 5 {
			return false, fmt.Errorf("protocol %d is newer than 5", v)
		}
	case opFrame:
		// The whole input is in memory, so a frame is only a length to
		// check; its contents are decoded like any other bytes.
		n, err := m.u64()
		if err != nil {
			return false, err
		}
		if left := uint64(len(m.data) - m.pos); n > left {
			return false, fmt.Errorf("frame of %d bytes but only %d left: %w", n, left, errTruncated)
		}
	case opStop:
		v, err := m.pop()
		if err != nil {
			return false, err
		}
		m.result = v
		return true, nil

	case opMark:
		return false, m.mark()
	case opPop:
		if len(m.stack) > m.base() {
			_, err = m.pop()
			return false, err
		}
		_, err = m.popMark() // Python pops the mark when its frame is empty
		return false, err
	case opPopMark:
		_, err = m.popMark()
		return false, err
	case opDup:
		v, err := m.peek()
		if err != nil {
			return false, err
		}
		m.push(v)

	case opNone:
		m.push(nil)
	case opNewTrue:
		m.push(true)
	case opNewFalse:
		m.push(false)
	case opInt, opLong, opFloat, opString, opUnicode:
		return false, m.textScalar(code)
	case opBinInt:
		v, err := m.u32()
		if err != nil {
			return false, err
		}
		m.push(int64(int32(uint32(v))))
	case opBinInt1, opBinInt2:
		var v uint64
		if code == opBinInt1 {
			v, err = m.u8()
		} else {
			v, err = m.u16()
		}
		if err != nil {
			return false, err
		}
		m.push(int64(v))
	case opLong1, opLong4:
		return false, m.binLong(code)
	case opBinFloat:
		b, err := m.take(8, "argument")
		if err != nil {
			return false, err
		}
		m.push(math.Float64frombits(binary.BigEndian.Uint64(b)))

	case opShortBinString, opBinString, opShortBinUnicode, opBinUnicode, opBinUnicode8,
		opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		return false, m.binString(code)

	case opEmptyTuple:
		m.push(emptyTuple)
	case opTuple1, opTuple2, opTuple3:
		n := int(code-opTuple1) + 1
		if len(m.stack)-m.base() < n {
			return false, errors.New("stack underflow")
		}
		t := append(Tuple(nil), m.stack[len(m.stack)-n:]...)
		m.stack = m.stack[:len(m.stack)-n]
		m.push(t)
	case opTuple:
		items, err := m.popMark()
		if err != nil {
			return false, err
		}
		m.push(Tuple(items))
	case opEmptyList:
		m.push(&List{})
	case opList:
		items, err := m.popMark()
		if err != nil {
			return false, err
		}
		m.push(&List{Items: items})
	case opAppend:
		v, err := m.pop()
		if err != nil {
			return false, err
		}
		return false, m.appendItems([]any{v})
	case opAppends:
		items, err := m.popMark()
		if err != nil {
			return false, err
		}
		return false, m.appendItems(items)
	case opEmptyDict:
		m.mem += dictCost
		m.push(NewDict())
	case opDict:
		m.mem += dictCost
		items, err := m.popMark()
		if err != nil {
			return false, err
		}
		m.push(NewDict())
		return false, m.setItems(items)
	case opSetItem:
		v, err := m.pop()
		if err != nil {
			return false, err
		}
		k, err := m.pop()
		if err != nil {
			return false, err
		}
		return false, m.setItems([]any{k, v})
	case opSetItems:
		items, err := m.popMark()
		if err != nil {
			return false, err
		}
		return false, m.setItems(items)

	case opGet, opPut:
		line, err := m.line()
		if err != nil {
			return false, err
		}
		i, err := parseIndex(line)
		if err != nil {
			return false, err
		}
		if code == opGet {
			return false, m.memoGet(i)
		}
		return false, m.memoPut(i)
	case opBinGet, opLongBinGet:
		i, err := m.memoIndex(code == opBinGet)
		if err != nil {
			return false, err
		}
		return false, m.memoGet(i)
	case opBinPut, opLongBinPut:
		i, err := m.memoIndex(code == opBinPut)
		if err != nil {
			return false, err
		}
		return false, m.memoPut(i)
	case opMemoize:
		return false, m.memoPut(uint64(len(m.memo)))

	case opGlobal, opStackGlobal, opReduce, opBuild, opNewObj, opNewObjEx, opPersID, opBinPersID:
		return false, m.callOp(code)

	default:
		if _, known := opNames[code]; known {
			// INST, OBJ, EXT*, sets and out-of-band buffers.
			return false, errors.New("not used by state_dict pickles: refused")
		}
		return false, errors.New("unknown opcode")
	}
	return false, nil
}

// emptyTuple is shared: tuples are immutable, and boxing a fresh one per
// EMPTY_TUPLE would let each input byte allocate.
var emptyTuple any = Tuple{}

func (m *machine) memoIndex(short bool) (uint64, error) {
	if short {
		return m.u8()
	}
	return m.u32()
}
