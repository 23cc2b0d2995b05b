package events

import (
	"testing"
	"time"
)

func TestBusDropsSlowSubscriber(t *testing.T) {
	b := NewBus(0)
	slow := b.Subscribe(2)
	fast := b.Subscribe(100)
	done := make(chan struct{})
	go func() {
		for i := int64(1); i <= 10; i++ {
			b.Publish(Event{ID: i, Type: DecisionRecorded})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("publisher blocked by a slow subscriber")
	}
	select {
	case <-slow.Lagged:
	default:
		t.Fatal("slow subscriber not told it lagged")
	}
	for i := int64(1); i <= 10; i++ {
		if ev := <-fast.C; ev.ID != i {
			t.Fatalf("fast got %d, want %d", ev.ID, i)
		}
	}
	if b.Subscribers() != 1 || b.LastID() != 10 {
		t.Fatalf("subscribers %d last %d", b.Subscribers(), b.LastID())
	}
	fast.Close()
	if b.Subscribers() != 0 {
		t.Fatal("close did not unsubscribe")
	}
}
